import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** An uploaded CSV between its dry run and its application (once: `appliedAt`). */
export class CsvImport extends Model<InferAttributes<CsvImport>, InferCreationAttributes<CsvImport>> {
  declare id: CreationOptional<number>;
  /** 'container' or 'vm'. */
  declare kind: string;
  /** Who uploaded it; only they can see and apply it. */
  declare username: string;
  declare filename: string | null;
  declare content: string;
  declare appliedAt: Date | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof CsvImport {
    return CsvImport.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        kind: { type: DataTypes.STRING(16), allowNull: false },
        username: { type: DataTypes.STRING(191), allowNull: false },
        filename: { type: DataTypes.STRING(255), allowNull: true },
        content: { type: DataTypes.TEXT('long'), allowNull: false },
        appliedAt: { type: DataTypes.DATE, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'CsvImports', modelName: 'CsvImport' },
    );
  }
}
