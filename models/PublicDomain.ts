import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/**
 * A domain http services take their names under (`app.example.org` under `example.org`). Its
 * certificate and key are paths on the edge host (NULL: the configured EDGE_CERTIFICATE pair).
 * Users may claim names under it only when `userClaimable`; the one `isDefault` domain names the
 * default http service of a new container.
 */
export class PublicDomain extends Model<InferAttributes<PublicDomain>, InferCreationAttributes<PublicDomain>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare certificatePath: string | null;
  declare keyPath: string | null;
  declare userClaimable: CreationOptional<boolean>;
  declare isDefault: CreationOptional<boolean>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof PublicDomain {
    return PublicDomain.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.STRING(191), allowNull: false, unique: true },
        certificatePath: { type: DataTypes.STRING(1024), allowNull: true },
        keyPath: { type: DataTypes.STRING(1024), allowNull: true },
        userClaimable: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        isDefault: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'PublicDomains', modelName: 'PublicDomain' },
    );
  }
}
