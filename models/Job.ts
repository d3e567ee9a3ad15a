import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const JOB_STATUSES = ['pending', 'running', 'success', 'failure', 'cancelled'] as const;
export type JobStatusValue = (typeof JOB_STATUSES)[number];
/** The statuses a job never leaves: the one list of them (pages, API, runner and tests read it). */
export const FINAL_JOB_STATUSES: readonly JobStatusValue[] = ['success', 'failure', 'cancelled'];
/** Whether `status` is final (the job has ended and will not change again). */
export function isFinalJobStatus(status: string): boolean {
  return (FINAL_JOB_STATUSES as readonly string[]).includes(status);
}

/** A unit of background work claimed and run by job-runner.ts. */
export class Job extends Model<InferAttributes<Job>, InferCreationAttributes<Job>> {
  declare id: CreationOptional<number>;
  declare command: string;
  declare status: CreationOptional<JobStatusValue>;
  declare createdBy: string | null;
  declare task: string | null;
  declare params: string | null;
  declare lockedBy: string | null;
  declare lockedAt: Date | null;
  declare startedAt: Date | null;
  declare finishedAt: Date | null;
  declare timeoutSeconds: number | null;
  declare cancelRequestedAt: Date | null;
  declare exitCode: number | null;
  declare error: string | null;
  /** What the job is about ('container', 'vm', 'inventory'), for the record's detail page. */
  declare subjectType: CreationOptional<string | null>;
  declare subjectId: CreationOptional<number | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof Job {
    return Job.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        command: { type: DataTypes.STRING(2000), allowNull: false },
        status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'pending', validate: { isIn: [JOB_STATUSES as unknown as string[]] } },
        createdBy: { type: DataTypes.STRING(191), allowNull: true },
        task: { type: DataTypes.STRING(64), allowNull: true },
        params: { type: DataTypes.TEXT, allowNull: true },
        lockedBy: { type: DataTypes.STRING(191), allowNull: true },
        lockedAt: { type: DataTypes.DATE, allowNull: true },
        startedAt: { type: DataTypes.DATE, allowNull: true },
        finishedAt: { type: DataTypes.DATE, allowNull: true },
        timeoutSeconds: { type: DataTypes.INTEGER, allowNull: true },
        cancelRequestedAt: { type: DataTypes.DATE, allowNull: true },
        exitCode: { type: DataTypes.INTEGER, allowNull: true },
        error: { type: DataTypes.TEXT, allowNull: true },
        subjectType: { type: DataTypes.STRING(32), allowNull: true },
        subjectId: { type: DataTypes.INTEGER, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'Jobs', modelName: 'Job' },
    );
  }
}
