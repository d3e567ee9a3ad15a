import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/**
 * The first answer to a request sent with an `Idempotency-Key` header, per user. Written in the same
 * transaction as the work it answers for, so a repeat gets either that answer or (while the first is
 * still running) waits on the unique index.
 */
export class IdempotencyKey extends Model<InferAttributes<IdempotencyKey>, InferCreationAttributes<IdempotencyKey>> {
  declare id: CreationOptional<number>;
  declare username: string;
  declare idemKey: string;
  /** SHA-256 of the method, path and body: the same key with another request is refused. */
  declare requestHash: string;
  declare responseStatus: number;
  declare responseBody: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof IdempotencyKey {
    return IdempotencyKey.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        username: { type: DataTypes.STRING(191), allowNull: false },
        idemKey: { type: DataTypes.STRING(191), allowNull: false },
        requestHash: { type: DataTypes.STRING(64), allowNull: false },
        responseStatus: { type: DataTypes.INTEGER, allowNull: false },
        responseBody: { type: DataTypes.TEXT, allowNull: false },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'IdempotencyKeys', modelName: 'IdempotencyKey' },
    );
  }
}
