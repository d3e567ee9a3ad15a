import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const EDGE_RESULTS = ['applied', 'rejected'] as const;
export type EdgeResult = (typeof EDGE_RESULTS)[number];

/** A reverse-proxy host, known by the name bin/berth-edge-pull sends: its last pull and its last report. */
export class Edge extends Model<InferAttributes<Edge>, InferCreationAttributes<Edge>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare lastPullAt: CreationOptional<Date | null>;
  declare lastPullAddress: CreationOptional<string | null>;
  declare lastPullVersionId: CreationOptional<number | null>;
  declare lastReportAt: CreationOptional<Date | null>;
  declare lastReportVersionId: CreationOptional<number | null>;
  declare lastReportSha256: CreationOptional<string | null>;
  declare lastResult: CreationOptional<EdgeResult | null>;
  declare lastOutput: CreationOptional<string | null>;
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
        lastReportAt: { type: DataTypes.DATE, allowNull: true },
        lastReportVersionId: { type: DataTypes.INTEGER, allowNull: true },
        lastReportSha256: { type: DataTypes.STRING(64), allowNull: true },
        lastResult: { type: DataTypes.STRING(16), allowNull: true, validate: { isIn: [EDGE_RESULTS as unknown as string[]] } },
        lastOutput: { type: DataTypes.TEXT, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'Edges', modelName: 'Edge' },
    );
  }
}
