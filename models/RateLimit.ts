import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** A rate-limit window: `hits` requests counted for `key` until `resetAt`. */
export class RateLimit extends Model<InferAttributes<RateLimit>, InferCreationAttributes<RateLimit>> {
  declare key: string;
  declare hits: number;
  declare resetAt: Date;

  static initModel(sequelize: Sequelize): typeof RateLimit {
    return RateLimit.init(
      {
        key: { type: DataTypes.STRING(191), primaryKey: true },
        hits: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        resetAt: { type: DataTypes.DATE, allowNull: false },
      },
      { sequelize, tableName: 'RateLimits', modelName: 'RateLimit', timestamps: false },
    );
  }
}
