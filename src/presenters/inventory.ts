import type { Container } from '../../models/index.js';
import { parseDrift } from '../inventory/drift.js';
import { attributeName, recordName, recordVmid, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { tagList } from '../lib/validators.js';
import { allowedActions } from '../provisioning/lifecycle.js';

/** The last sync's findings for a record as pages and JSON show them (see parseDrift). */
export interface DriftView {
  gone: boolean;
  fields: { field: string; berth: unknown; proxmox: unknown }[];
}

/** The record's `drift` column for pages and JSON: null when in step. */
export function presentDrift(stored: string | null | undefined): DriftView | null {
  const drift = parseDrift(stored);
  if (!drift) return null;
  return { gone: drift.gone === true, fields: Object.entries(drift.fields ?? {}).map(([field, pair]) => ({ field, berth: pair.berth, proxmox: pair.proxmox })) };
}

/** Expiry as people read it: the date, whether it has passed, and how many days are left. */
export interface Expiry {
  date: string;
  expired: boolean;
  /** Whole days from today (UTC) to the date; negative once it has passed. */
  days: number;
  label: string;
}

const DAY_MS = 86_400_000;

/** The expiry date is the last day the record is meant to live: it is expired from the day after. */
export function presentExpiry(expiresAt: string | null | undefined, now = new Date()): Expiry | null {
  if (!expiresAt) return null;
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const days = Math.round((Date.parse(`${expiresAt}T00:00:00Z`) - today) / DAY_MS);
  if (Number.isNaN(days)) return null;
  const label = days < 0 ? `expired ${-days} day${days === -1 ? '' : 's'} ago` : days === 0 ? 'expires today' : `expires in ${days} day${days === 1 ? '' : 's'}`;
  return { date: expiresAt, expired: days < 0, days, label };
}

/**
 * A container or VM for pages and JSON. Generic names (`name`, `vmid`, `os`, `owner`) let one
 * template serve both kinds; the fields' public names are included too, so API clients see the
 * fields they send (`hostname`, `containerId`, `osRelease` for containers). `containerId` is the
 * container's VMID (the model's `vmid`): the key is kept because API clients read it.
 */
/** `mayOperateUnmanaged`: the policy's answer for the viewer, which decides a container's buttons (allowedActions). */
export function presentRecord(kind: InventoryKind, record: InventoryRecord, now = new Date(), mayOperateUnmanaged = false) {
  const node = (record as InventoryRecord & { node?: { id: number; name: string } | null }).node ?? null;
  const os = (record.get(kind.osField) as string | null) ?? null;
  // A container's sizes and the lifecycle actions its status allows (the detail page's buttons).
  const extra = kind.key === 'container'
    ? { aiContainer: record.get('aiContainer') as string, cores: record.get('cores') as number | null, memoryMb: record.get('memoryMb') as number | null, diskGb: record.get('diskGb') as number | null, actions: allowedActions(record as Container, mayOperateUnmanaged) }
    : { rdpPort: record.get('rdpPort') as number };
  return {
    id: record.id,
    kind: kind.key,
    name: recordName(kind, record),
    vmid: recordVmid(record),
    [kind.nameField]: recordName(kind, record),
    [kind.vmidKey]: recordVmid(record),
    [kind.osField]: os,
    os,
    owner: record.username,
    username: record.username,
    nodeId: record.nodeId ?? null,
    nodeName: node?.name ?? null,
    macAddress: record.macAddress,
    ipv4Address: record.ipv4Address,
    status: record.status as string,
    environment: record.environment ?? null,
    expiresAt: record.expiresAt,
    expiry: presentExpiry(record.expiresAt, now),
    purpose: record.purpose,
    notes: record.notes,
    tags: tagList(record.tags),
    drift: presentDrift(record.drift),
    syncedAt: record.syncedAt ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...extra,
  };
}

export type PresentedRecord = ReturnType<typeof presentRecord>;

/**
 * The edit form's starting values: every editable column as the text a form field holds ('' for
 * none), so re-submitting an untouched form changes nothing.
 */
export function formValues(kind: InventoryKind, record: InventoryRecord): Record<string, string> {
  const values: Record<string, string> = {};
  for (const field of kind.editable) {
    const value = record.get(attributeName(kind, field));
    values[field] = value === null || value === undefined ? '' : field === 'tags' ? tagList(String(value)).join(', ') : String(value);
  }
  return values;
}

/** Submitted form values, kept as text so a rejected form shows what was typed. */
export function submittedValues(kind: InventoryKind, body: unknown): Record<string, string> {
  const input = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const values: Record<string, string> = {};
  for (const field of kind.editable) {
    const value = input[field];
    values[field] = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  }
  return values;
}
