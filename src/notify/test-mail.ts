// The admin's SMTP check (POST /send-test-email): a test message queued like every other mail, so it
// proves the whole path (outbox, runner, SMTP), not only the SMTP settings.
import { inTransaction, type CommandContext } from '../services/context.js';
import { mailQueued, queueMail, type MailResult } from './outbox.js';

/** Queues one test message to `to`, audited as `mail.test` (a stored change, if a small one). */
export async function queueTestMail(cmd: CommandContext, to: string): Promise<MailResult> {
  return inTransaction(cmd, async (transaction) => {
    const sender = cmd.actor.username ?? 'Berth';
    const row = await queueMail(cmd, { to: [to], subject: 'Berth test email', template: 'test-email', category: 'test-email', forUser: cmd.actor.username, data: { sender } }, transaction);
    await cmd.auditor.record(cmd.actor, { action: 'mail.test', objectType: 'outboxMessage', objectId: row.id, objectLabel: to, changes: { to: { after: to } } }, transaction);
    return mailQueued(cmd.config, row);
  });
}
