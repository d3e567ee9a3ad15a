import { DataTypes, Model, type CreationOptional, type ForeignKey, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { Node } from './Node.js';

/**
 * IPv4 addresses Berth hands out to new containers on one node's bridge. An address is taken when a
 * container record holds it (Containers.ipv4Address is unique), so two requests can never get the same one.
 */
export class IpPool extends Model<InferAttributes<IpPool>, InferCreationAttributes<IpPool>> {
  declare id: CreationOptional<number>;
  declare nodeId: ForeignKey<Node['id']>;
  declare bridge: string;
  /** The subnet, e.g. `10.20.0.0/24`; its prefix length goes into net0's `ip=`. */
  declare cidr: string;
  declare gateway: string;
  /** First and last address handed out (inclusive). */
  declare rangeStart: string;
  declare rangeEnd: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof IpPool {
    return IpPool.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        nodeId: { type: DataTypes.INTEGER, allowNull: false },
        bridge: { type: DataTypes.STRING(64), allowNull: false },
        cidr: { type: DataTypes.STRING(18), allowNull: false },
        gateway: { type: DataTypes.STRING(15), allowNull: false },
        rangeStart: { type: DataTypes.STRING(15), allowNull: false },
        rangeEnd: { type: DataTypes.STRING(15), allowNull: false },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'IpPools', modelName: 'IpPool' },
    );
  }
}
