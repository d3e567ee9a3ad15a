import type { Node } from '../../models/index.js';
import { ageText, minuteUtc } from './inventory.js';

/** A node's result in the syncs (Nodes.syncedAt, syncFailedAt, syncError: src/inventory/sync.ts) for pages and JSON. */
export interface NodeSyncView {
  /** When a sync last read the node's machines; null: never. */
  syncedAt: Date | null;
  syncFailedAt: Date | null;
  /** Why the last sync that tried the node could not read it (or its own URL, when a peer answered for it). */
  syncError: string | null;
  /** read: the last sync read it; failed: it could not; never: no sync has tried it. */
  result: 'read' | 'failed' | 'never';
  /** "read 2026-12-02 10:05 UTC (5 min ago)" / "not read by the sync of …: <error>; last read …". */
  label: string;
}

export function presentNodeSync(node: Pick<Node, 'syncedAt' | 'syncFailedAt' | 'syncError'>, now = new Date()): NodeSyncView {
  const syncedAt = node.syncedAt ?? null;
  const syncFailedAt = node.syncFailedAt ?? null;
  const syncError = node.syncError ?? null;
  const when = (d: Date) => `${minuteUtc(d)} (${ageText(d, now)})`;
  const lastRead = syncedAt ? `last read ${when(syncedAt)}` : 'never read';
  // A failure newer than the last read: the last sync could not read it.
  if (syncFailedAt && (!syncedAt || syncFailedAt > syncedAt)) {
    return { syncedAt, syncFailedAt, syncError, result: 'failed', label: `not read by the sync of ${minuteUtc(syncFailedAt)}: ${syncError ?? 'unknown error'}; ${lastRead}` };
  }
  if (syncedAt) return { syncedAt, syncFailedAt, syncError, result: 'read', label: `read ${when(syncedAt)}${syncError ? `; ${syncError}` : ''}` };
  return { syncedAt, syncFailedAt, syncError, result: 'never', label: 'not synced yet' };
}
