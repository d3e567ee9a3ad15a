import { queueMail } from '../../src/notify/outbox.js';
import type { AuditEntry } from './audit-cases.js';
import { testContext } from './context.js';

/**
 * A message given up on, as the deliverer leaves one. It has no recipient, so once retried a later
 * test's deliverer fails it again at once instead of mailing anyone.
 */
export async function failedOutboxMessage(subject = 'audit coverage') {
  const { db, config } = testContext();
  const row = await db.sequelize.transaction((t) => queueMail({ models: db.models, config }, { to: [], subject, template: 'test-email', data: {}, category: 'test-email' }, t));
  return row.update({ status: 'failed', attempts: 9, lastError: 'no email address' });
}

/** Audit-coverage entries for src/routes/outbox.ts (see audit-cases.ts). */
export function outboxAuditCases(): Record<string, AuditEntry> {
  return {
    'POST /admin/mail/:messageId/retry': { action: 'outbox.retry', build: async () => ({ path: `/admin/mail/${(await failedOutboxMessage()).id}/retry` }) },
  };
}
