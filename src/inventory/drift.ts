import type { GuestKind } from '../../models/GuestSnapshot.js';
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
  fields?: Record<string, { berth: unknown; proxmox: unknown }>;
}

/** A guest as a sync saw it in Proxmox (the shape of a GuestSnapshot row). */
export interface GuestSeen {
  kind: GuestKind;
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
}

export const guestKey = (kind: GuestKind, node: string, vmid: number) => `${kind}/${node}/${vmid}`;

export function kindOfGuest(kind: GuestKind): InventoryKind {
  return kind === 'lxc' ? containerKind : vmKind;
}

export function parseDrift(text: string | null | undefined): Drift | null {
  if (!text) return null;
  try {
    const d = JSON.parse(text) as Drift;
    return d && typeof d === 'object' ? d : null;
  } catch {
    return null;
  }
}

export function serialiseDrift(drift: Drift | null): string | null {
  if (!drift || (!drift.gone && !Object.keys(drift.fields ?? {}).length)) return null;
  return JSON.stringify(drift);
}

/** A Proxmox status Berth can store for this kind, or null (e.g. "unknown" while a node is down). */
export function berthStatus(kind: InventoryKind, status: string | null): string | null {
  return status && status !== 'unknown' && kind.statuses.includes(status) ? status : null;
}

/**
 * The differences between `record` (on the Berth node `nodeName`) and the guest Proxmox reports.
 * Only what Proxmox actually told us is compared: an unknown IP or MAC is not drift.
 */
export function compareRecord(kind: InventoryKind, record: InventoryRecord, nodeName: string, guest: GuestSeen): Drift | null {
  const fields: NonNullable<Drift['fields']> = {};
  if (guest.node !== nodeName) fields.nodeId = { berth: nodeName, proxmox: guest.node };
  const status = berthStatus(kind, guest.status);
  if (status && status !== record.status) fields.status = { berth: record.status, proxmox: status };
  const berthMac = record.macAddress ? normaliseMac(record.macAddress) : null;
  if (guest.macAddress && guest.macAddress !== berthMac) fields.macAddress = { berth: record.macAddress, proxmox: guest.macAddress };
  if (guest.ipv4Address && guest.ipv4Address !== record.ipv4Address) fields.ipv4Address = { berth: record.ipv4Address, proxmox: guest.ipv4Address };
  const name = recordName(kind, record);
  if (guest.name && guest.name.toLowerCase() !== name.toLowerCase()) fields[kind.nameField] = { berth: name, proxmox: guest.name };
  return Object.keys(fields).length ? { fields } : null;
}

/**
 * The guest a record stands for: the one at its (node, VMID); failing that, one with its VMID and
 * name on another node (it was migrated). Undefined when Proxmox no longer has it.
 */
export function findGuest(kind: InventoryKind, record: InventoryRecord, nodeName: string, guests: Map<string, GuestSeen>, byVmid: Map<number, GuestSeen[]>): GuestSeen | undefined {
  const vmid = recordVmid(kind, record);
  if (vmid === null) return undefined;
  const here = guests.get(guestKey(kind.proxmoxType, nodeName, vmid));
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
