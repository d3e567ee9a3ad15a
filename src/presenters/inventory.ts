import type { Service } from '../../models/index.js';
import { recordName, recordVmid, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { tagList } from '../lib/validators.js';

/** One field Proxmox sees differently from Berth, as the last sync found it. */
export interface DriftField {
  field: string;
  berth: unknown;
  proxmox: unknown;
}

/** The last sync's findings for a record: gone from Proxmox, and/or fields that differ. */
export interface Drift {
  gone: boolean;
  fields: DriftField[];
}

/**
 * Parses the `drift` column written by the sync (`{ gone?: true, fields?: { f: { berth, proxmox } } }`).
 * A value this code cannot read is shown as no drift rather than breaking the page.
 */
export function parseDrift(stored: string | null | undefined): Drift | null {
  if (!stored) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(stored);
  } catch {
    return null;
  }
  if (!raw || typeof raw !== 'object') return null;
  const { gone, fields } = raw as { gone?: unknown; fields?: unknown };
  const list: DriftField[] = [];
  if (fields && typeof fields === 'object') {
    for (const [field, diff] of Object.entries(fields as Record<string, { berth?: unknown; proxmox?: unknown } | null>)) {
      list.push({ field, berth: diff?.berth ?? null, proxmox: diff?.proxmox ?? null });
    }
  }
  if (gone !== true && !list.length) return null;
  return { gone: gone === true, fields: list };
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
 * template serve both kinds; the table's own column names are included too, so API clients see
 * the fields they send (`hostname`, `containerId`, `osRelease` for containers).
 */
export function presentRecord(kind: InventoryKind, record: InventoryRecord, now = new Date()) {
  const node = (record as InventoryRecord & { node?: { id: number; name: string } | null }).node ?? null;
  const os = (record.get(kind.osField) as string | null) ?? null;
  const extra = kind.key === 'container' ? { aiContainer: record.get('aiContainer') as string } : { rdpPort: record.get('rdpPort') as number };
  return {
    id: record.id,
    kind: kind.key,
    name: recordName(kind, record),
    vmid: recordVmid(kind, record),
    [kind.nameField]: recordName(kind, record),
    [kind.vmidField]: recordVmid(kind, record),
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
    drift: parseDrift(record.drift),
    syncedAt: record.syncedAt ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...extra,
  };
}

export type PresentedRecord = ReturnType<typeof presentRecord>;

/** A service row on a container's page. */
export function presentService(s: Service) {
  return { id: s.id, type: s.type, internalPort: s.internalPort, externalPort: s.externalPort, externalHostname: s.externalHostname, tls: s.tls };
}

/**
 * The edit form's starting values: every editable column as the text a form field holds ('' for
 * none), so re-submitting an untouched form changes nothing.
 */
export function formValues(kind: InventoryKind, record: InventoryRecord): Record<string, string> {
  const values: Record<string, string> = {};
  for (const field of kind.editable) {
    const value = record.get(field);
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
