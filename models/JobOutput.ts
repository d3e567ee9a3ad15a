import { DataTypes, Model, type CreationOptional, type ForeignKey, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { Job } from './Job.js';

export const OUTPUT_STREAMS = ['stdout', 'stderr', 'system'] as const;
export type OutputStream = (typeof OUTPUT_STREAMS)[number];

/**
 * One ordered chunk of a job's output (a batch of lines from one stream). The table keeps the seed's name,
 * `JobStatuses` (its SQL interface); in code it is the job's output, not its status (`Job.status`).
 */
export class JobOutput extends Model<InferAttributes<JobOutput>, InferCreationAttributes<JobOutput>> {
  declare id: CreationOptional<number>;
  declare jobId: ForeignKey<Job['id']>;
  declare seq: number;
  declare stream: CreationOptional<OutputStream>;
  declare output: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof JobOutput {
    return JobOutput.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        jobId: { type: DataTypes.INTEGER, allowNull: false },
        seq: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        stream: { type: DataTypes.STRING(8), allowNull: false, defaultValue: 'stdout', validate: { isIn: [OUTPUT_STREAMS as unknown as string[]] } },
        output: { type: DataTypes.TEXT, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'JobStatuses', modelName: 'JobOutput' },
    );
  }
}
