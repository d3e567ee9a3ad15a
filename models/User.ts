import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const ROLES = ['admin', 'user'] as const;
export type Role = (typeof ROLES)[number];

/** A person who logs in: a local account (realm 'local', argon2id hash) or a Proxmox account (user@realm). */
export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>;
  declare username: string;
  declare realm: CreationOptional<string>;
  declare displayName: string | null;
  declare email: string | null;
  declare passwordHash: string | null;
  declare role: CreationOptional<Role>;
  declare disabled: CreationOptional<boolean>;
  declare lastLoginAt: Date | null;
  /** Member of PROXMOX_ADMIN_GROUP at the last Proxmox login or re-check (kept apart from `role`, Berth's own flag). */
  declare proxmoxAdmin: CreationOptional<boolean>;
  /** When Proxmox last confirmed this user's groups and status (login, re-check); null for local accounts. */
  declare proxmoxCheckedAt: CreationOptional<Date | null>;
  /** The account stops working after this moment (e.g. an intern's end date); null: no end. */
  declare expiresAt: CreationOptional<Date | null>;
  /** HMAC of the one-time set-password token emailed at approval or reset; null when none is open. */
  declare passwordSetupHash: CreationOptional<string | null>;
  declare passwordSetupExpiresAt: CreationOptional<Date | null>;
  declare passwordChangedAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof User {
    return User.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        // Case-sensitive on both databases (utf8mb4_bin on MariaDB): `OPS@pve` and `ops@pve` are two people.
        username: { type: DataTypes.STRING(191), allowNull: false, unique: true },
        realm: { type: DataTypes.STRING(64), allowNull: false, defaultValue: 'local' },
        displayName: { type: DataTypes.STRING(191), allowNull: true },
        email: { type: DataTypes.STRING(191), allowNull: true },
        passwordHash: { type: DataTypes.STRING(255), allowNull: true },
        role: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'user', validate: { isIn: [ROLES as unknown as string[]] } },
        disabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        lastLoginAt: { type: DataTypes.DATE, allowNull: true },
        proxmoxAdmin: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        proxmoxCheckedAt: { type: DataTypes.DATE, allowNull: true },
        expiresAt: { type: DataTypes.DATE, allowNull: true },
        passwordSetupHash: { type: DataTypes.STRING(64), allowNull: true, unique: true },
        passwordSetupExpiresAt: { type: DataTypes.DATE, allowNull: true },
        passwordChangedAt: { type: DataTypes.DATE, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'Users', modelName: 'User' },
    );
  }
}
