import type { ModelStatic } from 'sequelize';
import { CONTAINER_STATUSES } from '../../models/Container.js';
import type { Container, Models, VirtualMachine } from '../../models/index.js';
import { VM_STATUSES } from '../../models/VirtualMachine.js';

/**
 * Containers and VMs are one concept with two tables: the inventory code (lists, forms, CSV, sync,
 * audit) is written once against this description of the differences. Attribute names follow each
 * table (the seed's `hostname`/`osRelease` for containers), except the VMID: both models call it
 * `vmid` (the Container model maps it to the seed's `containerId` column), and `vmidKey` says what
 * people and API clients call it.
 */
export interface InventoryKind {
  /** Audit objectType, CSV import kind, Jobs.subjectType. */
  key: 'container' | 'vm';
  /** URL prefix of its pages. */
  basePath: '/containers' | '/vms';
  /** Words for pages and messages. */
  label: string;
  plural: string;
  /** The Proxmox type: `lxc` for containers, `qemu` for VMs. */
  proxmoxType: 'lxc' | 'qemu';
  /** The record's unique name column and its label. */
  nameField: 'hostname' | 'name';
  nameLabel: string;
  /**
   * The VMID's public name: form fields, JSON keys, field errors and audit changes. Containers keep
   * the seed's `containerId` so API clients and the audit history see what they always saw; in code
   * the attribute is `vmid` for both kinds (see publicName / attributeName).
   */
  vmidKey: 'containerId' | 'vmid';
  /** The operating system column. */
  osField: 'osRelease' | 'osName';
  statuses: readonly string[];
  /** Foreign key of Credentials for this kind. */
  credentialKey: 'containerId' | 'virtualMachineId';
  /** Every field a person may edit (forms, CSV, bulk), by public name, in form order. Audited on change. */
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
  vmidKey: 'containerId',
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
  vmidKey: 'vmid',
  osField: 'osName',
  statuses: VM_STATUSES,
  credentialKey: 'virtualMachineId',
  editable: ['name', 'vmid', 'osName', 'rdpPort', ...common],
  model: (m) => m.VirtualMachine as unknown as ModelStatic<InventoryRecord>,
};

export const KINDS = [containerKind, vmKind] as const;

/** The kind named by `key` (audit objectType, CSV import kind), or undefined. */
export function kindByKey(key: string): InventoryKind | undefined {
  return KINDS.find((k) => k.key === key);
}

/** A row of either table, read through the kind's column names. */
export type InventoryRecord = Container | VirtualMachine;

/** The record's name (hostname or VM name). */
export function recordName(kind: InventoryKind, record: InventoryRecord): string {
  return String(record.get(kind.nameField));
}

/** The record's Proxmox VMID, null when unknown. */
export function recordVmid(record: InventoryRecord): number | null {
  return record.vmid ?? null;
}

/** The model attribute behind a public field name (`containerId` → `vmid` for containers). */
export function attributeName(kind: InventoryKind, field: string): string {
  return field === kind.vmidKey ? 'vmid' : field;
}

/** The public name of a model attribute (`vmid` → `containerId` for containers). */
export function publicName(kind: InventoryKind, attribute: string): string {
  return attribute === 'vmid' ? kind.vmidKey : attribute;
}

/** `values` keyed by public names instead of attribute names. */
export function toPublicNames(kind: InventoryKind, values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [publicName(kind, k), v]));
}

/** `values` keyed by attribute names instead of public names. */
export function toAttributeNames(kind: InventoryKind, values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [attributeName(kind, k), v]));
}
