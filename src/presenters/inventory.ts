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

/**
 * What Berth knows of a record's state and how old that knowledge is. `status` is what pages show:
 * the stored status, or `unknown` when the last successful read of its node did not find it.
 * `seenAt` is when Proxmox last confirmed the record (its `syncedAt`), `missedAt` when a sync last
 * looked for it and did not find it.
 */
export interface KnownState {
  status: string;
  /** confirmed: Proxmox listed it at `seenAt`; unknown: the last read of its node did not find it; unconfirmed: no sync has seen it yet. */
  known: 'confirmed' | 'unknown' | 'unconfirmed';
  /** The status Berth has stored (what Proxmox said last, or what was entered). */
  berthStatus: string;
  seenAt: Date | null;
  missedAt: Date | null;
  /** "running, seen 3 h ago" / "unknown — not found by the sync of 2026-12-02 10:05 UTC". */
  label: string;
  /** The label without the status: "seen 3 h ago", "not found by the sync of …", "not yet seen by a sync". */
  note: string;
  /** The second line: "last seen 3 days ago (2026-11-29 09:00 UTC), then running" / "never confirmed by a sync". */
  detail: string;
  /** `seenAt` as pages print it: "2026-12-01 09:00 UTC (3 h ago)"; null: never. */
  seenText: string | null;
  /** `missedAt` as pages print it: "2026-12-02 10:05 UTC"; null when not gone (or not recorded). */
  missedText: string | null;
}

/** A time as the pages print it: minutes, UTC. */
export const minuteUtc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** "just now", "12 min ago", "3 h ago", "2 days ago". */
export function ageText(then: Date, now = new Date()): string {
  const minutes = Math.floor((now.getTime() - then.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** When the sync that did not find the record ran (the `missedAt` of its stored drift), if recorded. */
function missedAtOf(stored: string | null | undefined): Date | null {
  if (!stored) return null;
  try {
    const at = (JSON.parse(stored) as { missedAt?: unknown }).missedAt;
    const date = typeof at === 'string' ? new Date(at) : null;
    return date && !Number.isNaN(date.getTime()) ? date : null;
  } catch {
    return null;
  }
}

export function presentKnownState(record: Pick<InventoryRecord, 'status' | 'drift' | 'syncedAt'>, now = new Date()): KnownState {
  const berthStatus = String(record.status);
  const seenAt = record.syncedAt ?? null;
  const seenText = seenAt ? `${minuteUtc(seenAt)} (${ageText(seenAt, now)})` : null;
  const gone = parseDrift(record.drift)?.gone === true;
  if (gone) {
    const missedAt = missedAtOf(record.drift);
    const note = `not found by ${missedAt ? `the sync of ${minuteUtc(missedAt)}` : 'the last sync'}`;
    return {
      status: 'unknown',
      known: 'unknown',
      berthStatus,
      seenAt,
      missedAt,
      label: `unknown — ${note}`,
      note,
      seenText,
      missedText: missedAt ? minuteUtc(missedAt) : null,
      detail: seenAt ? `last seen ${ageText(seenAt, now)} (${minuteUtc(seenAt)}), then ${berthStatus}` : `never confirmed by a sync; Berth has ${berthStatus}`,
    };
  }
  if (!seenAt) return { status: berthStatus, known: 'unconfirmed', berthStatus, seenAt, missedAt: null, label: `${berthStatus}, not yet seen by a sync`, note: 'not yet seen by a sync', detail: 'never confirmed by a sync', seenText, missedText: null };
  const note = `seen ${ageText(seenAt, now)}`;
  return { status: berthStatus, known: 'confirmed', berthStatus, seenAt, missedAt: null, label: `${berthStatus}, ${note}`, note, detail: `confirmed by Proxmox ${ageText(seenAt, now)} (${minuteUtc(seenAt)})`, seenText, missedText: null };
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
    /** When Proxmox last confirmed the record (not the sync that missed it: see `state.missedAt`). */
    syncedAt: record.syncedAt ?? null,
    state: presentKnownState(record, now),
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
