import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** none: reminders only; stop: stopped the day after expiry; delete: stopped, then deleted after graceDays. */
export const EXPIRY_ACTIONS = ['none', 'stop', 'delete'] as const;
export type ExpiryAction = (typeof EXPIRY_ACTIONS)[number];

/** The admin's expiry action for one kind (`container` or `vm`); no row means `none`. */
export class ExpiryPolicy extends Model<InferAttributes<ExpiryPolicy>, InferCreationAttributes<ExpiryPolicy>> {
  declare kind: 'container' | 'vm';
  declare action: CreationOptional<ExpiryAction>;
  declare graceDays: CreationOptional<number>;
  declare updatedBy: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof ExpiryPolicy {
    return ExpiryPolicy.init(
      {
        kind: { type: DataTypes.STRING(16), primaryKey: true, validate: { isIn: [['container', 'vm']] } },
        action: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'none', validate: { isIn: [EXPIRY_ACTIONS as unknown as string[]] } },
        graceDays: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 7 },
        updatedBy: { type: DataTypes.STRING(191), allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'ExpiryPolicies', modelName: 'ExpiryPolicy' },
    );
  }
}
