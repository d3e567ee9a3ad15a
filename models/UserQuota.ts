import { DataTypes, Model, type CreationOptional, type ForeignKey, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { User } from './User.js';

/** An admin's override of the configured quota for one user; NULL keeps the default (QUOTA_* in config). */
export class UserQuota extends Model<InferAttributes<UserQuota>, InferCreationAttributes<UserQuota>> {
  declare id: CreationOptional<number>;
  declare userId: ForeignKey<User['id']>;
  declare maxContainers: number | null;
  declare maxCores: number | null;
  declare maxMemoryMb: number | null;
  declare maxDiskGb: number | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof UserQuota {
    return UserQuota.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        userId: { type: DataTypes.INTEGER, allowNull: false, unique: true },
        maxContainers: { type: DataTypes.INTEGER, allowNull: true },
        maxCores: { type: DataTypes.INTEGER, allowNull: true },
        maxMemoryMb: { type: DataTypes.INTEGER, allowNull: true },
        maxDiskGb: { type: DataTypes.INTEGER, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'UserQuotas', modelName: 'UserQuota' },
    );
  }
}
