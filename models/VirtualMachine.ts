import { DataTypes, Model, type CreationOptional, type ForeignKey, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { Node } from './Node.js';

export const VM_STATUSES = ['unknown', 'running', 'stopped', 'paused', 'failed'] as const;
export type VmStatus = (typeof VM_STATUSES)[number];

/** A QEMU virtual machine on a Proxmox node; `username` is the owner, `vmid` the Proxmox VMID. */
export class VirtualMachine extends Model<InferAttributes<VirtualMachine>, InferCreationAttributes<VirtualMachine>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare username: string | null;
  declare osName: string | null;
  declare nodeId: ForeignKey<Node['id']> | null;
  declare vmid: number | null;
  declare macAddress: string | null;
  declare ipv4Address: string | null;
  declare rdpPort: CreationOptional<number>;
  declare status: CreationOptional<VmStatus>;
  declare environment: string | null;
  declare expiresAt: string | null;
  declare purpose: string | null;
  declare notes: string | null;
  declare tags: string | null;
  /** JSON of the last sync's differences with Proxmox (see src/inventory/drift.ts); NULL when in step. */
  declare drift: CreationOptional<string | null>;
  declare syncedAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof VirtualMachine {
    return VirtualMachine.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.STRING(255), allowNull: false, unique: true },
        username: { type: DataTypes.STRING(191), allowNull: true },
        osName: { type: DataTypes.STRING(191), allowNull: true },
        nodeId: { type: DataTypes.INTEGER, allowNull: true },
        vmid: { type: DataTypes.INTEGER, allowNull: true },
        macAddress: { type: DataTypes.STRING(17), allowNull: true, unique: true },
        ipv4Address: { type: DataTypes.STRING(45), allowNull: true, unique: true },
        rdpPort: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 3389 },
        status: { type: DataTypes.STRING(32), allowNull: false, defaultValue: 'unknown', validate: { isIn: [VM_STATUSES as unknown as string[]] } },
        environment: { type: DataTypes.STRING(32), allowNull: true },
        expiresAt: { type: DataTypes.DATEONLY, allowNull: true },
        purpose: { type: DataTypes.STRING(255), allowNull: true },
        notes: { type: DataTypes.TEXT, allowNull: true },
        tags: { type: DataTypes.STRING(512), allowNull: true },
        drift: { type: DataTypes.TEXT, allowNull: true },
        syncedAt: { type: DataTypes.DATE, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'VirtualMachines', modelName: 'VirtualMachine' },
    );
  }
}
