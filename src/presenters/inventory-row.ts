import type { Node } from '../../models/index.js';
import { recordName, recordVmid, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { todayUtc } from '../inventory/list-query.js';
import { presentExpiry, presentKnownState } from './inventory.js';
import { tagList } from '../lib/validators.js';

/** Expiry dates this close are flagged on the list (the reminder mails use their own settings). */
export const EXPIRING_SOON_DAYS = 14;

/**
 * One container or VM as a list row (page and JSON). Reads only listed columns: credentials are
 * another table and never reach a list, and notes stay on the detail page.
 */
export function presentInventoryRow(kind: InventoryKind, record: InventoryRecord, today = todayUtc(), now = new Date()) {
  const node = (record as InventoryRecord & { node?: Node | null }).node ?? null;
  const expiresAt = record.expiresAt ?? null;
  // The same reading of the date as the detail page (presentExpiry), for the list's day.
  const expiry = presentExpiry(expiresAt, new Date(`${today}T00:00:00Z`));
  return {
    id: record.id,
    name: recordName(kind, record),
    nodeId: record.nodeId ?? null,
    node: node ? node.name : null,
    vmid: recordVmid(record),
    ip: record.ipv4Address ?? null,
    mac: record.macAddress ?? null,
    owner: record.username ?? null,
    status: record.status,
    environment: record.environment ?? null,
    expiresAt,
    expired: expiry?.expired ?? false,
    expiringSoon: expiry !== null && !expiry.expired && expiry.days <= EXPIRING_SOON_DAYS,
    tags: tagList(record.tags),
    drifted: record.drift !== null && record.drift !== undefined,
    /** What Berth knows of the status and how old it is: `unknown` for a record the last read of its node did not find. */
    state: presentKnownState(record, now),
    updatedAt: record.updatedAt,
  };
}

export type InventoryRow = ReturnType<typeof presentInventoryRow>;
