import type { ModelStatic } from 'sequelize';
import { CONTAINER_STATUSES } from '../../models/Container.js';
import type { Container, Models, VirtualMachine } from '../../models/index.js';
import { VM_STATUSES } from '../../models/VirtualMachine.js';

/**
 * Containers and VMs are one concept with two tables: the inventory code (lists, forms, CSV, sync,
 * audit) is written once against this description of the differences. Column names follow each
 * table (the seed's `hostname`/`containerId`/`osRelease` for containers).
 */
export interface InventoryKind {
  /** Audit objectType, CSV import kind, Jobs.subjectType. */
  key: 'container' | 'vm';
  /** URL prefix of its pages. */
  basePath: '/containers' | '/vms';
  /** Words for pages and messages. */
  label: string;
  plural: string;
  /** Proxmox guest type. */
  proxmoxType: 'lxc' | 'qemu';
  /** The record's unique name column and its label. */
  nameField: 'hostname' | 'name';
  nameLabel: string;
  /** The Proxmox VMID column. */
  vmidField: 'containerId' | 'vmid';
  /** The operating system column. */
  osField: 'osRelease' | 'osName';
  statuses: readonly string[];
  /** Foreign key of Credentials for this kind. */
  credentialKey: 'containerId' | 'virtualMachineId';
  /** Every column a person may edit (forms, CSV, bulk), in form order. Audited on change. */
  editable: readonly string[];
  /** The kind's table; typed loosely because the two model classes have different columns. */
  model(models: Models): ModelStatic<InventoryRecord>;
}

const common = ['username', 'nodeId', 'macAddress', 'ipv4Address', 'status', 'environment', 'expiresAt', 'purpose', 'tags', 'notes'] as const;

export const containerKind: InventoryKind = {
  key: 'container',
  basePath: '/containers',
  label: 'container',
  plural: 'containers',
  proxmoxType: 'lxc',
  nameField: 'hostname',
  nameLabel: 'Hostname',
  vmidField: 'containerId',
  osField: 'osRelease',
  statuses: CONTAINER_STATUSES,
  credentialKey: 'containerId',
  editable: ['hostname', 'containerId', 'osRelease', 'aiContainer', ...common],
  model: (m) => m.Container as unknown as ModelStatic<InventoryRecord>,
};

export const vmKind: InventoryKind = {
  key: 'vm',
  basePath: '/vms',
  label: 'VM',
  plural: 'VMs',
  proxmoxType: 'qemu',
  nameField: 'name',
  nameLabel: 'Name',
  vmidField: 'vmid',
  osField: 'osName',
  statuses: VM_STATUSES,
  credentialKey: 'virtualMachineId',
  editable: ['name', 'vmid', 'osName', 'rdpPort', ...common],
  model: (m) => m.VirtualMachine as unknown as ModelStatic<InventoryRecord>,
};

export const KINDS = [containerKind, vmKind] as const;

export function kindByKey(key: string): InventoryKind | undefined {
  return KINDS.find((k) => k.key === key);
}

/** A row of either table, read through the kind's column names. */
export type InventoryRecord = Container | VirtualMachine;

export function recordName(kind: InventoryKind, record: InventoryRecord): string {
  return String(record.get(kind.nameField));
}

export function recordVmid(kind: InventoryKind, record: InventoryRecord): number | null {
  return (record.get(kind.vmidField) as number | null) ?? null;
}
