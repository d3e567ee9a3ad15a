// The outbox as admins see it (issue 15): the list by status with counts, and "retry now". Reading
// never opens a message's sealed payload: it holds one-click links (password, extend) meant for its
// recipient only, so admins see the envelope (who, what, how it went), never the body.
import { fn, col, type WhereOptions } from 'sequelize';
import { OUTBOX_STATUSES, type OutboxStatus } from '../../models/OutboxMessage.js';
import type { Models, OutboxMessage } from '../../models/index.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { inTransaction, type CommandContext } from '../services/context.js';

/** The statuses "retry now" applies to: a message given up on, or one waiting for its next attempt. */
export const RETRYABLE_STATUSES: readonly OutboxStatus[] = ['failed', 'queued'];

/** Whether "retry now" applies to a message in `status`. */
export const mayRetry = (status: OutboxStatus): boolean => RETRYABLE_STATUSES.includes(status);

/** The columns the admin pages read: everything but the sealed payload. */
const ENVELOPE: Array<keyof OutboxMessage> = [
  'id', 'category', 'template', 'recipients', 'cc', 'subject', 'forUser', 'dedupeKey', 'status', 'attempts', 'nextAttemptAt', 'retryFrom',
  'lockedBy', 'lockedUntil', 'lastError', 'messageId', 'sentAt', 'createdAt', 'updatedAt',
];

export interface OutboxPage {
  messages: OutboxMessage[];
  /** How many messages match the filter (for paging). */
  total: number;
  /** How many messages are in each status, whatever the filter. */
  counts: Record<OutboxStatus, number>;
}

/**
 * One page of the outbox, newest first, optionally of one status, with the count of each status.
 * Failed messages are what admins come for, so the counts are always all four.
 */
export async function listOutbox(models: Models, query: { status?: OutboxStatus; page: number; pageSize: number }): Promise<OutboxPage> {
  const where: WhereOptions = query.status ? { status: query.status } : {};
  const { rows, count } = await models.OutboxMessage.findAndCountAll({
    where,
    attributes: ENVELOPE,
    order: [['id', 'DESC']],
    limit: query.pageSize,
    offset: (query.page - 1) * query.pageSize,
  });
  return { messages: rows, total: count, counts: await outboxCounts(models) };
}

/** How many messages are in each status. */
export async function outboxCounts(models: Models): Promise<Record<OutboxStatus, number>> {
  const rows = (await models.OutboxMessage.findAll({ attributes: ['status', [fn('COUNT', col('id')), 'n']], group: ['status'], raw: true })) as unknown as Array<{ status: string; n: number | string }>;
  const counts = Object.fromEntries(OUTBOX_STATUSES.map((s) => [s, 0])) as Record<OutboxStatus, number>;
  for (const row of rows) if ((OUTBOX_STATUSES as readonly string[]).includes(row.status)) counts[row.status as OutboxStatus] = Number(row.n);
  return counts;
}

/**
 * "Retry now": a failed or queued message goes back to queued, due at `now`, with its attempts
 * counted from zero again and its retry window (OUTBOX_RETRY_HOURS, counted from retryFrom) starting
 * at `now`, so it gets the whole retry period and backoff anew, however old it is; its last error stays
 * until the next attempt replaces it. A message being sent or already sent is refused (409): sending
 * it again is what the outbox exists to prevent. Audited `outbox.retry`.
 */
export async function retryOutboxMessage(cmd: CommandContext, id: number, now: Date = new Date()): Promise<OutboxMessage> {
  return inTransaction(cmd, async (t) => {
    // Locked: a deliverer claiming it at this moment waits, then sees the new due time (or wins first, and this refuses).
    const row = await cmd.models.OutboxMessage.findByPk(id, { transaction: t, lock: t.LOCK.UPDATE });
    if (!row) throw new NotFoundError('No such message.');
    if (!mayRetry(row.status)) {
      throw new ConflictError(row.status === 'sent' ? `Message ${row.id} was already sent${row.sentAt ? ` at ${row.sentAt.toISOString()}` : ''}: it is not sent again.` : `Message ${row.id} is being sent right now; see how it went in a moment.`);
    }
    const before = { status: row.status, attempts: row.attempts };
    await row.update({ status: 'queued', attempts: 0, nextAttemptAt: now, retryFrom: now, lockedBy: null, lockedUntil: null }, { transaction: t });
    await cmd.auditor.record(
      cmd.actor,
      {
        action: 'outbox.retry',
        objectType: 'outboxMessage',
        objectId: row.id,
        objectLabel: row.subject,
        changes: { status: { before: before.status, after: 'queued' }, attempts: { before: before.attempts, after: 0 } },
      },
      t,
    );
    return row;
  });
}
