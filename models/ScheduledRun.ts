import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** A recurring task's run for one time slot; unique (name, slot) so it is enqueued once. */
export class ScheduledRun extends Model<InferAttributes<ScheduledRun>, InferCreationAttributes<ScheduledRun>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare slot: string;
  declare jobId: number | null;
  declare createdAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof ScheduledRun {
    return ScheduledRun.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.STRING(64), allowNull: false },
        slot: { type: DataTypes.STRING(32), allowNull: false },
        jobId: { type: DataTypes.INTEGER, allowNull: true },
        createdAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'ScheduledRuns', modelName: 'ScheduledRun', updatedAt: false },
    );
  }
}
