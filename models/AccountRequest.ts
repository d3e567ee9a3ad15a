import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const ACCOUNT_REQUEST_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type AccountRequestStatus = (typeof ACCOUNT_REQUEST_STATUSES)[number];

/** Someone asking for a Berth account through /register; an admin approves or rejects it. */
export class AccountRequest extends Model<InferAttributes<AccountRequest>, InferCreationAttributes<AccountRequest>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare email: string;
  declare username: string;
  declare reason: string;
  /** Last day of the account (interns, contractors), as YYYY-MM-DD; null: no end. */
  declare endDate: string | null;
  declare status: CreationOptional<AccountRequestStatus>;
  declare decidedById: CreationOptional<number | null>;
  declare decidedAt: CreationOptional<Date | null>;
  declare rejectionReason: CreationOptional<string | null>;
  /** The account created at approval. */
  declare userId: CreationOptional<number | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof AccountRequest {
    return AccountRequest.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.STRING(191), allowNull: false },
        email: { type: DataTypes.STRING(191), allowNull: false },
        username: { type: DataTypes.STRING(64), allowNull: false },
        reason: { type: DataTypes.TEXT, allowNull: false },
        endDate: { type: DataTypes.DATEONLY, allowNull: true },
        status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'pending', validate: { isIn: [ACCOUNT_REQUEST_STATUSES as unknown as string[]] } },
        decidedById: { type: DataTypes.INTEGER, allowNull: true },
        decidedAt: { type: DataTypes.DATE, allowNull: true },
        rejectionReason: { type: DataTypes.TEXT, allowNull: true },
        userId: { type: DataTypes.INTEGER, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'AccountRequests', modelName: 'AccountRequest' },
    );
  }
}
