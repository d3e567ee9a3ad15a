import { DataTypes, Model, type CreationOptional, type ForeignKey, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { Node } from './Node.js';

/** A template an admin offers for new containers on one node: a Proxmox `vztmpl` volume and its label (the seed's osRelease). */
export class ContainerTemplate extends Model<InferAttributes<ContainerTemplate>, InferCreationAttributes<ContainerTemplate>> {
  declare id: CreationOptional<number>;
  declare nodeId: ForeignKey<Node['id']>;
  /** `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`. */
  declare volid: string;
  declare osRelease: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof ContainerTemplate {
    return ContainerTemplate.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        nodeId: { type: DataTypes.INTEGER, allowNull: false },
        volid: { type: DataTypes.STRING(255), allowNull: false },
        osRelease: { type: DataTypes.STRING(191), allowNull: false },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'ContainerTemplates', modelName: 'ContainerTemplate' },
    );
  }
}
