import { DataTypes, Model, type CreationOptional, type ForeignKey, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { Node } from './Node.js';

/**
 * `provisioning`: the hostname is reserved and a container.create job is making it; `pending-approval`:
 * reserved, waiting for an admin (over quota); `error`: a create or delete failed and left something
 * for an admin (provisionError says what).
 */
export const CONTAINER_STATUSES = ['unknown', 'creating', 'running', 'stopped', 'failed', 'deleting', 'provisioning', 'pending-approval', 'error'] as const;

/** A reservation not built yet: a request Berth accepted, being created or waiting for approval (not compared by the sync). */
export const UNBUILT_CONTAINER_STATUSES: readonly string[] = ['provisioning', 'pending-approval'];
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

/**
 * An LXC container on a Proxmox node. `vmid` is the Proxmox VMID, named as on VirtualMachine; its
 * column keeps the seed's name `containerId` (no migration: the seed's SQL is an interface).
 */
export class Container extends Model<InferAttributes<Container>, InferCreationAttributes<Container>> {
  declare id: CreationOptional<number>;
  declare hostname: string;
  declare username: string | null;
  declare osRelease: string | null;
  declare nodeId: ForeignKey<Node['id']> | null;
  declare vmid: number | null;
  declare macAddress: string | null;
  declare ipv4Address: string | null;
  declare aiContainer: CreationOptional<string>;
  declare status: CreationOptional<ContainerStatus>;
  declare expiresAt: string | null;
  declare purpose: string | null;
  declare notes: string | null;
  declare tags: string | null;
  declare environment: CreationOptional<string | null>;
  /** JSON of the last sync's differences with Proxmox (see src/inventory/drift.ts); NULL when in step. */
  declare drift: CreationOptional<string | null>;
  /** What Berth asked Proxmox for (cores, MB, GiB); NULL for records Berth did not create. */
  declare cores: CreationOptional<number | null>;
  declare memoryMb: CreationOptional<number | null>;
  declare diskGb: CreationOptional<number | null>;
  /** The HTTP port inside the container to expose (the seed's httpPort). */
  declare httpPort: CreationOptional<number | null>;
  /** Berth created it (it carries Berth's marker in Proxmox). */
  declare managed: CreationOptional<boolean>;
  /** What a failed create or delete left behind, in words for an admin. */
  declare provisionError: CreationOptional<string | null>;
  declare syncedAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof Container {
    return Container.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        hostname: { type: DataTypes.STRING(255), allowNull: false, unique: true },
        username: { type: DataTypes.STRING(191), allowNull: true },
        osRelease: { type: DataTypes.STRING(191), allowNull: true },
        nodeId: { type: DataTypes.INTEGER, allowNull: true },
        vmid: { type: DataTypes.INTEGER, allowNull: true, field: 'containerId' },
        macAddress: { type: DataTypes.STRING(17), allowNull: true, unique: true },
        ipv4Address: { type: DataTypes.STRING(45), allowNull: true, unique: true },
        aiContainer: { type: DataTypes.STRING(50), allowNull: false, defaultValue: 'N' },
        status: {
          type: DataTypes.STRING(32),
          allowNull: false,
          defaultValue: 'unknown',
          validate: { isIn: [CONTAINER_STATUSES as unknown as string[]] },
        },
        expiresAt: { type: DataTypes.DATEONLY, allowNull: true },
        purpose: { type: DataTypes.STRING(255), allowNull: true },
        notes: { type: DataTypes.TEXT, allowNull: true },
        tags: { type: DataTypes.STRING(512), allowNull: true },
        environment: { type: DataTypes.STRING(32), allowNull: true },
        drift: { type: DataTypes.TEXT, allowNull: true },
        syncedAt: { type: DataTypes.DATE, allowNull: true },
        cores: { type: DataTypes.INTEGER, allowNull: true },
        memoryMb: { type: DataTypes.INTEGER, allowNull: true },
        diskGb: { type: DataTypes.INTEGER, allowNull: true },
        httpPort: { type: DataTypes.INTEGER, allowNull: true },
        managed: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        provisionError: { type: DataTypes.TEXT, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'Containers', modelName: 'Container' },
    );
  }
}
