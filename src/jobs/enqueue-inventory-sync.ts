import { Op, type Transaction } from 'sequelize';
import type { Job, Models } from '../../models/index.js';
import type { AuditActor, Auditor } from '../audit/index.js';
import { ForbiddenError, ValidationError } from '../lib/errors.js';
import { enqueueJob, jobEnqueuedEvent } from './enqueue.js';
import { getTask } from './tasks/registry.js';
import { SYNC_TASK } from './tasks/inventory-sync.js';

// Beside enqueue.ts rather than in the task's module: enqueue.ts loads every task (tasks/index.ts),
// so a task module that imported enqueue.ts would close an import cycle.

/** The ScheduledRuns row whose lock makes sync requests take turns on MariaDB (never a real slot). */
export const SYNC_REQUEST_LOCK = { name: `${SYNC_TASK}:request-lock`, slot: 'lock' } as const;

/** What POST /jobs passes on: the person's permission and what they sent with the task. */
export interface SyncRequestOptions {
  /** The policy's answer for the acting user (default: true, for "Sync now" behind an admin route and the scheduler). */
  mayRunAdminTasks?: boolean;
  params?: unknown;
  timeoutSeconds?: number;
}

export interface SyncRequest {
  job: Job;
  /** True when a sync was already pending or running: `job` is that one and nothing was enqueued. */
  existing: boolean;
}

/**
 * Requests a sync (the "Sync now" button on the drift page, POST /jobs with the sync task, and the
 * scheduler with actor null): returns the sync already pending or running when there is one, since
 * two syncs at once could write an older reading over a newer one; otherwise enqueues one and audits
 * `job.enqueue`, in the caller's transaction.
 *
 * Requests take turns: on SQLite the transaction is IMMEDIATE (one writer), on MariaDB each holds
 * the lock of one ScheduledRuns row (created by migration 20261205000002) until it commits. (A
 * locking read of Jobs rows that finds none takes only gap locks, which two requests can hold at
 * once, and both would then insert.) Everything runs on the caller's connection: with DB_POOL_MAX=1
 * a second one would never come.
 */
export async function requestInventorySyncJob(deps: { models: Models; auditor: Auditor }, actor: AuditActor, t: Transaction, options: SyncRequestOptions = {}): Promise<SyncRequest> {
  const { models } = deps;
  const mayRunAdminTasks = options.mayRunAdminTasks ?? true;
  // Refused before the existing sync is looked up, as enqueueJob would refuse it.
  const task = getTask(SYNC_TASK)!;
  if (task.adminOnly && !mayRunAdminTasks) throw new ForbiddenError('Administrators only.');
  const parsed = task.schema.safeParse(options.params ?? {});
  if (!parsed.success) throw new ValidationError('Invalid job parameters.', { params: parsed.error.issues.map((i) => i.message).join('; ') });
  if (models.Job.sequelize!.getDialect() !== 'sqlite') {
    const lock = await models.ScheduledRun.findOne({ where: { ...SYNC_REQUEST_LOCK }, transaction: t, lock: t.LOCK.UPDATE });
    // Only if someone deleted the migration's row: put it back, in this transaction (its insert
    // lock holds it like the FOR UPDATE would). Two requests doing so at once: one waits for the
    // other and then fails on the unique key (no second sync either way); the row exists from then on.
    if (!lock) await models.ScheduledRun.create({ ...SYNC_REQUEST_LOCK, jobId: null }, { transaction: t });
  }
  // A locking read sees the latest committed rows, not the snapshot of an earlier plain read in this
  // REPEATABLE READ transaction (which could miss a sync enqueued since). SQLite: no-op, not needed.
  const active = await models.Job.findOne({
    where: { task: SYNC_TASK, status: { [Op.in]: ['pending', 'running'] } },
    order: [['id', 'ASC']],
    transaction: t,
    lock: t.LOCK.SHARE,
  });
  if (active) return { job: active, existing: true };
  const job = await enqueueJob(models, {
    task: SYNC_TASK,
    params: parsed.data,
    timeoutSeconds: options.timeoutSeconds,
    createdBy: actor.username,
    mayRunAdminTasks,
    transaction: t,
    subjectType: 'inventory',
    subjectId: null,
  });
  await deps.auditor.record(actor, jobEnqueuedEvent(job), t);
  return { job, existing: false };
}

/** {@link requestInventorySyncJob}'s job: the new sync, or the one already pending or running. */
export async function enqueueInventorySync(deps: { models: Models; auditor: Auditor }, actor: AuditActor, t: Transaction): Promise<Job> {
  return (await requestInventorySyncJob(deps, actor, t)).job;
}
