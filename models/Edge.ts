import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const EDGE_RESULTS = ['applied', 'rejected'] as const;
export type EdgeResult = (typeof EDGE_RESULTS)[number];

/** How a pull was answered: the served text sent, or 304 (the edge named the served ETag). */
export const EDGE_PULL_STATUSES = [200, 304] as const;
export type EdgePullStatus = (typeof EDGE_PULL_STATUSES)[number];

/**
 * A reverse-proxy host, known by the name bin/berth-edge-pull sends: its last pull, its last report,
 * and the version it last applied. What it runs is only ever the `applied*` columns: a `rejected`
 * report leaves them alone (the edge kept its file), and a pull says nothing about them (a 304 also
 * answers an edge that names the ETag of a version it refused).
 */
export class Edge extends Model<InferAttributes<Edge>, InferCreationAttributes<Edge>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare lastPullAt: CreationOptional<Date | null>;
  declare lastPullAddress: CreationOptional<string | null>;
  declare lastPullVersionId: CreationOptional<number | null>;
  declare lastPullStatus: CreationOptional<EdgePullStatus | null>;
  declare lastReportAt: CreationOptional<Date | null>;
  declare lastReportVersionId: CreationOptional<number | null>;
  declare lastReportSha256: CreationOptional<string | null>;
  declare lastResult: CreationOptional<EdgeResult | null>;
  declare lastOutput: CreationOptional<string | null>;
  declare appliedVersionId: CreationOptional<number | null>;
  declare appliedSha256: CreationOptional<string | null>;
  declare appliedAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof Edge {
    return Edge.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.STRING(64), allowNull: false, unique: true },
        lastPullAt: { type: DataTypes.DATE, allowNull: true },
        lastPullAddress: { type: DataTypes.STRING(64), allowNull: true },
        lastPullVersionId: { type: DataTypes.INTEGER, allowNull: true },
        lastPullStatus: { type: DataTypes.INTEGER, allowNull: true, validate: { isIn: [EDGE_PULL_STATUSES as unknown as number[]] } },
        lastReportAt: { type: DataTypes.DATE, allowNull: true },
        lastReportVersionId: { type: DataTypes.INTEGER, allowNull: true },
        lastReportSha256: { type: DataTypes.STRING(64), allowNull: true },
        lastResult: { type: DataTypes.STRING(16), allowNull: true, validate: { isIn: [EDGE_RESULTS as unknown as string[]] } },
        lastOutput: { type: DataTypes.TEXT, allowNull: true },
        appliedVersionId: { type: DataTypes.INTEGER, allowNull: true },
        appliedSha256: { type: DataTypes.STRING(64), allowNull: true },
        appliedAt: { type: DataTypes.DATE, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'Edges', modelName: 'Edge' },
    );
  }
}
