import type { AuditEvent } from '../../models/index.js';
import type { Changes } from '../audit/index.js';

/** An audit event for pages and JSON, with its changes parsed. */
export function presentAuditEvent(e: AuditEvent) {
  let changes: Changes | null;
  try {
    changes = e.changes ? (JSON.parse(e.changes) as Changes) : null;
  } catch {
    changes = null;
  }
  return {
    id: Number(e.id),
    createdAt: e.createdAt,
    actor: e.actor,
    action: e.action,
    objectType: e.objectType,
    objectId: e.objectId,
    objectLabel: e.objectLabel,
    changes,
    requestId: e.requestId,
    ip: e.ip,
  };
}

export type PresentedAuditEvent = ReturnType<typeof presentAuditEvent>;
