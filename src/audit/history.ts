import type { AuditEvent, Models } from '../../models/index.js';

/** An object's audit history, newest first (for its detail page). */
export async function auditHistory(models: Pick<Models, 'AuditEvent'>, objectType: string, objectId: number | string, limit = 50): Promise<AuditEvent[]> {
  return models.AuditEvent.findAll({ where: { objectType, objectId: String(objectId) }, order: [['id', 'DESC']], limit });
}
