import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** The one row (id 1) that says which version edges get: the pinned one if any, else the newest published. */
export const EDGE_STATE_ID = 1;

export class EdgeState extends Model<InferAttributes<EdgeState>, InferCreationAttributes<EdgeState>> {
  declare id: number;
  declare servedVersionId: CreationOptional<number | null>;
  declare pinnedVersionId: CreationOptional<number | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof EdgeState {
    return EdgeState.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true },
        servedVersionId: { type: DataTypes.INTEGER, allowNull: true },
        pinnedVersionId: { type: DataTypes.INTEGER, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'EdgeStates', modelName: 'EdgeState' },
    );
  }
}
