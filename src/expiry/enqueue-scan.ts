import type { Transaction } from 'sequelize';
import type { Job, Models } from '../../models/index.js';
import type { AuditActor, Auditor } from '../audit/index.js';
import { enqueueJob, jobEnqueuedEvent } from '../jobs/enqueue.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { EXPIRY_SCAN_TASK } from './scan-task.js';

// Apart from the task (scan-task.ts): enqueue.ts loads every task, so the task module importing it
// would close an import cycle (as enqueue-inventory-sync.ts does for the sync).
/**
 * Enqueues an expiry scan at `at` (default: when it runs) and audits `job.enqueue` in the caller's
 * transaction. Berth's own schedule calls it with actor null.
 */
export async function enqueueExpiryScan(deps: { models: Models; auditor: Auditor }, actor: AuditActor, at: Date | undefined, t: Transaction): Promise<Job> {
  const job = await enqueueJob(deps.models, {
    task: EXPIRY_SCAN_TASK,
    params: at ? { at: at.toISOString() } : {},
    createdBy: actor.username,
    // The schedule is Berth itself; a person reaches this only as an admin.
    mayRunAdminTasks: true,
    transaction: t,
    subjectType: 'expiry',
    subjectId: null,
  });
  await deps.auditor.record(actor, jobEnqueuedEvent(job), t);
  return job;
}

/** "Scan now" (admins, on the notification log): an expiry scan at this moment, with its `job.enqueue` event. */
export function requestExpiryScan(cmd: CommandContext): Promise<Job> {
  return inTransaction(cmd, (transaction) => enqueueExpiryScan(cmd, cmd.actor, undefined, transaction));
}
