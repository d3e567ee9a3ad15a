import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { ExpiryItemType } from './NotificationLog.js';

/** A one-click "extend" link from a reminder: stored as the HMAC of its token, usable once, until `validUntil`. */
export class ExtendLink extends Model<InferAttributes<ExtendLink>, InferCreationAttributes<ExtendLink>> {
  declare id: CreationOptional<number>;
  declare tokenHash: string;
  declare itemType: ExpiryItemType;
  declare itemId: number;
  /** The owner it was sent to: only they may use it. */
  declare username: string;
  /** The expiry date the link extends from: once the date changed, the link is spent. */
  declare expiresOn: string;
  declare validUntil: Date;
  declare usedAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof ExtendLink {
    return ExtendLink.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        tokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
        itemType: { type: DataTypes.STRING(16), allowNull: false },
        itemId: { type: DataTypes.INTEGER, allowNull: false },
        username: { type: DataTypes.STRING(191), allowNull: false },
        expiresOn: { type: DataTypes.DATEONLY, allowNull: false },
        validUntil: { type: DataTypes.DATE, allowNull: false },
        usedAt: { type: DataTypes.DATE, allowNull: true },
        createdAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'ExtendLinks', modelName: 'ExtendLink', updatedAt: false },
    );
  }
}
