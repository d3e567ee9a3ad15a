import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/**
 * read: GET/HEAD only; write: every method the owner may use; edge: only what a reverse-proxy host
 * does (GET /nginx.conf, POST /edges/report), nothing else.
 */
export const API_TOKEN_SCOPES = ['read', 'write', 'edge'] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

/** A named API token of a user, for scripts (`Authorization: Bearer …`). Only its HMAC is stored. */
export class ApiToken extends Model<InferAttributes<ApiToken>, InferCreationAttributes<ApiToken>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare name: string;
  declare scope: CreationOptional<ApiTokenScope>;
  /** HMAC-SHA256 (hex) of the whole token, keyed with the API token secret. */
  declare tokenHash: string;
  /** The token's first characters, so the owner can tell tokens apart (not enough to use it). */
  declare hint: string;
  declare expiresAt: Date | null;
  declare lastUsedAt: CreationOptional<Date | null>;
  declare revokedAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof ApiToken {
    return ApiToken.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        userId: { type: DataTypes.INTEGER, allowNull: false },
        name: { type: DataTypes.STRING(64), allowNull: false },
        scope: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'write', validate: { isIn: [API_TOKEN_SCOPES as unknown as string[]] } },
        tokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
        hint: { type: DataTypes.STRING(16), allowNull: false },
        expiresAt: { type: DataTypes.DATE, allowNull: true },
        lastUsedAt: { type: DataTypes.DATE, allowNull: true },
        revokedAt: { type: DataTypes.DATE, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'ApiTokens', modelName: 'ApiToken' },
    );
  }
}
