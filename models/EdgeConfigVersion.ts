import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const EDGE_VERSION_STATUSES = ['published', 'rejected'] as const;
export type EdgeVersionStatus = (typeof EDGE_VERSION_STATUSES)[number];

/**
 * One rendered nginx.conf; its id is the version number edges report. `published` versions may be
 * served (`checked` says whether `nginx -t` on the Berth host proved it); a `rejected` one never is,
 * and keeps nginx's words and the service they point at.
 */
export class EdgeConfigVersion extends Model<InferAttributes<EdgeConfigVersion>, InferCreationAttributes<EdgeConfigVersion>> {
  declare id: CreationOptional<number>;
  declare body: string;
  declare sha256: string;
  declare serviceCount: CreationOptional<number>;
  declare status: EdgeVersionStatus;
  declare checked: CreationOptional<boolean>;
  declare checkOutput: CreationOptional<string | null>;
  declare checkServiceId: CreationOptional<number | null>;
  /** What caused it ("service 12 added", "container web1 stopped", "scheduled re-render"). */
  declare reason: CreationOptional<string | null>;
  /** What differs from the previous version, one line per service entry added or removed. */
  declare changes: CreationOptional<string | null>;
  declare createdBy: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof EdgeConfigVersion {
    return EdgeConfigVersion.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        // LONGTEXT on MariaDB (TEXT stops at 64 KiB; 10,000 services render to about 2.7 MB); SQLite's TEXT has no size and warns about one.
        body: { type: sequelize.getDialect() === 'sqlite' ? DataTypes.TEXT : DataTypes.TEXT('long'), allowNull: false },
        sha256: { type: DataTypes.STRING(64), allowNull: false },
        serviceCount: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        status: { type: DataTypes.STRING(16), allowNull: false, validate: { isIn: [EDGE_VERSION_STATUSES as unknown as string[]] } },
        checked: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        checkOutput: { type: DataTypes.TEXT, allowNull: true },
        checkServiceId: { type: DataTypes.INTEGER, allowNull: true },
        reason: { type: DataTypes.STRING(500), allowNull: true },
        changes: { type: DataTypes.TEXT, allowNull: true },
        createdBy: { type: DataTypes.STRING(255), allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'EdgeConfigVersions', modelName: 'EdgeConfigVersion' },
    );
  }
}
