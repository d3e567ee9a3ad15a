import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const PROXMOX_TYPES = ['lxc', 'qemu'] as const;
export type ProxmoxType = (typeof PROXMOX_TYPES)[number];

/**
 * A machine (container or VM) as the last sync saw it in Proxmox (`node` is the Proxmox node name).
 * The table keeps its first name, `GuestSnapshots` (tableName below): renaming it would take a
 * migration for a word only code reads.
 */
export class MachineSnapshot extends Model<InferAttributes<MachineSnapshot>, InferCreationAttributes<MachineSnapshot>> {
  declare id: CreationOptional<number>;
  declare kind: ProxmoxType;
  declare node: string;
  declare vmid: number;
  declare name: string | null;
  declare status: string | null;
  declare macAddress: string | null;
  declare ipv4Address: string | null;
  declare osName: string | null;
  declare syncJobId: number | null;
  declare seenAt: Date;

  static initModel(sequelize: Sequelize): typeof MachineSnapshot {
    return MachineSnapshot.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        kind: { type: DataTypes.STRING(8), allowNull: false, validate: { isIn: [PROXMOX_TYPES as unknown as string[]] } },
        node: { type: DataTypes.STRING(191), allowNull: false },
        vmid: { type: DataTypes.INTEGER, allowNull: false },
        name: { type: DataTypes.STRING(255), allowNull: true },
        status: { type: DataTypes.STRING(32), allowNull: true },
        macAddress: { type: DataTypes.STRING(17), allowNull: true },
        ipv4Address: { type: DataTypes.STRING(45), allowNull: true },
        osName: { type: DataTypes.STRING(191), allowNull: true },
        syncJobId: { type: DataTypes.INTEGER, allowNull: true },
        seenAt: { type: DataTypes.DATE, allowNull: false },
      },
      { sequelize, tableName: 'GuestSnapshots', modelName: 'MachineSnapshot', timestamps: false },
    );
  }
}
