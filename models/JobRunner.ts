import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** A live job runner: its heartbeat row (src/jobs/heartbeat.ts). */
export class JobRunner extends Model<InferAttributes<JobRunner>, InferCreationAttributes<JobRunner>> {
  declare id: string;
  declare hostname: string;
  declare pid: number;
  declare concurrency: number;
  declare runningJobs: CreationOptional<number>;
  declare startedAt: Date;
  declare heartbeatAt: Date;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof JobRunner {
    return JobRunner.init(
      {
        id: { type: DataTypes.STRING(191), primaryKey: true },
        hostname: { type: DataTypes.STRING(255), allowNull: false },
        pid: { type: DataTypes.INTEGER, allowNull: false },
        concurrency: { type: DataTypes.INTEGER, allowNull: false },
        runningJobs: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        startedAt: { type: DataTypes.DATE, allowNull: false },
        heartbeatAt: { type: DataTypes.DATE, allowNull: false },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'JobRunners', modelName: 'JobRunner' },
    );
  }
}
