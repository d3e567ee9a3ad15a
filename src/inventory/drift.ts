import type { ProxmoxType } from '../../models/MachineSnapshot.js';
import { normaliseMac } from '../lib/validators.js';
import { containerKind, recordName, recordVmid, vmKind, type InventoryKind, type InventoryRecord } from './kinds.js';

/**
 * How a Berth record differs from what the last sync saw in Proxmox. Stored as JSON in the record's
 * `drift` column (NULL when in step), read by the drift page and the record's detail page:
 * `{ gone?: true, fields?: { nodeId|status|macAddress|ipv4Address|hostname|name: { berth, proxmox } } }`.
 * `nodeId` drift holds node NAMES (what people read); accepting it looks the Berth node up by name.
 */
export interface Drift {
  gone?: true;
  /** When the sync that did not find it ran (ISO time; src/inventory/sync.ts goneDriftText). */
  missedAt?: string;
  fields?: Record<string, { berth: unknown; proxmox: unknown }>;
}

/** A machine as a sync saw it in Proxmox (the shape of a MachineSnapshot row). */
export interface MachineSeen {
  kind: ProxmoxType;
  /** Proxmox node name. */
  node: string;
  vmid: number;
  name: string | null;
  status: string | null;
  /** Lower-case `aa:bb:…`, null when unknown. */
  macAddress: string | null;
  /** Null when unknown (stopped DHCP container, VM without agent): never compared then. */
  ipv4Address: string | null;
  osName: string | null;
  /** The record id in Berth's marker when Berth created it (src/provisioning/marker.ts); not stored in the snapshot. */
  berthContainerId?: number | null;
}

export const machineKey = (kind: ProxmoxType, node: string, vmid: number) => `${kind}/${node}/${vmid}`;

export function kindOfMachine(kind: ProxmoxType): InventoryKind {
  return kind === 'lxc' ? containerKind : vmKind;
}

/**
 * Reads a `drift` column. A value this code cannot read counts as no drift rather than breaking a
 * page; so does one with neither `gone` nor any field.
 */
export function parseDrift(text: string | null | undefined): Drift | null {
  if (!text) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!raw || typeof raw !== 'object') return null;
  const { gone, fields, missedAt } = raw as { gone?: unknown; fields?: unknown; missedAt?: unknown };
  const drift: Drift = {};
  if (gone === true) drift.gone = true;
  if (gone === true && typeof missedAt === 'string') drift.missedAt = missedAt;
  if (fields && typeof fields === 'object') {
    const pairs = Object.entries(fields as Record<string, { berth?: unknown; proxmox?: unknown } | null>).map(([field, pair]) => [field, { berth: pair?.berth ?? null, proxmox: pair?.proxmox ?? null }] as const);
    if (pairs.length) drift.fields = Object.fromEntries(pairs);
  }
  return drift.gone || drift.fields ? drift : null;
}

/** Writes a `drift` column: NULL when the record is in step. */

export function serialiseDrift(drift: Drift | null): string | null {
  if (!drift || (!drift.gone && !Object.keys(drift.fields ?? {}).length)) return null;
  return JSON.stringify(drift);
}

/** A Proxmox status Berth can store for this kind, or null (e.g. "unknown" while a node is down). */
export function berthStatus(kind: InventoryKind, status: string | null): string | null {
  return status && status !== 'unknown' && kind.statuses.includes(status) ? status : null;
}

/**
 * The differences between `record` (on the Berth node `nodeName`) and the machine Proxmox reports.
 * Only what Proxmox actually told us is compared: an unknown IP or MAC is not drift.
 */
export function compareRecord(kind: InventoryKind, record: InventoryRecord, nodeName: string, machine: MachineSeen): Drift | null {
  const fields: NonNullable<Drift['fields']> = {};
  if (machine.node !== nodeName) fields.nodeId = { berth: nodeName, proxmox: machine.node };
  const status = berthStatus(kind, machine.status);
  if (status && status !== record.status) fields.status = { berth: record.status, proxmox: status };
  const berthMac = record.macAddress ? normaliseMac(record.macAddress) : null;
  if (machine.macAddress && machine.macAddress !== berthMac) fields.macAddress = { berth: record.macAddress, proxmox: machine.macAddress };
  if (machine.ipv4Address && machine.ipv4Address !== record.ipv4Address) fields.ipv4Address = { berth: record.ipv4Address, proxmox: machine.ipv4Address };
  const name = recordName(kind, record);
  if (machine.name && machine.name.toLowerCase() !== name.toLowerCase()) fields[kind.nameField] = { berth: name, proxmox: machine.name };
  return Object.keys(fields).length ? { fields } : null;
}

/**
 * The machine a record stands for: the one at its (node, VMID); failing that, one with its VMID and
 * name on another node (it was migrated). Undefined when Proxmox no longer has it.
 */
export function findMachine(kind: InventoryKind, record: InventoryRecord, nodeName: string, machines: Map<string, MachineSeen>, byVmid: Map<number, MachineSeen[]>): MachineSeen | undefined {
  const vmid = recordVmid(record);
  if (vmid === null) return undefined;
  const here = machines.get(machineKey(kind.proxmoxType, nodeName, vmid));
  if (here) return here;
  const name = recordName(kind, record).toLowerCase();
  return (byVmid.get(vmid) ?? []).find((g) => g.kind === kind.proxmoxType && g.name?.toLowerCase() === name);
}

/** The values an "accept Proxmox values" action writes, keyed by column (nodeId still a node name). */
export function proxmoxValues(drift: Drift): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, pair] of Object.entries(drift.fields ?? {})) out[field] = pair.proxmox;
  return out;
}
