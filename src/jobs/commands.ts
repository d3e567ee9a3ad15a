import type { Job } from '../../models/index.js';
import { isFinalJobStatus } from '../../models/Job.js';
import { changedFields } from '../audit/index.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { enqueueJob, jobAuditLabel, jobEnqueuedEvent } from './enqueue.js';
import { requestInventorySyncJob, type SyncRequest } from './enqueue-inventory-sync.js';
import { SYNC_TASK } from './tasks/inventory-sync.js';

/** What POST /jobs asks for: the seed's raw command, or a registered task with its parameters. */
export interface JobSubmission {
  command?: string;
  task?: string;
  params?: unknown;
  timeoutSeconds?: number;
}

/**
 * Enqueues a job for the acting user, with its `job.enqueue` audit event, in one transaction.
 * `mayRunAdminTasks` is the policy's answer (`can(user, 'runAdminTask')`), asked by the route.
 */
export async function submitJob(cmd: CommandContext, input: JobSubmission, mayRunAdminTasks: boolean): Promise<Job> {
  return (await requestJob(cmd, input, mayRunAdminTasks)).job;
}

/**
 * {@link submitJob}, saying whether a job was enqueued: the inventory sync runs one at a time, so
 * asking for it while one is pending or running answers with that one (`existing`), nothing enqueued
 * or audited, the same as the drift page's "Sync now" (requestInventorySyncJob). Its permission and
 * parameters are checked first, as for any task.
 */
export async function requestJob(cmd: CommandContext, input: JobSubmission, mayRunAdminTasks: boolean): Promise<SyncRequest> {
  return inTransaction(cmd, async (transaction) => {
    if (input.task === SYNC_TASK) return requestInventorySyncJob(cmd, cmd.actor, transaction, { mayRunAdminTasks, params: input.params, timeoutSeconds: input.timeoutSeconds });
    const job = await enqueueJob(cmd.models, { ...input, createdBy: cmd.actor.username, mayRunAdminTasks, transaction });
    await cmd.auditor.record(cmd.actor, jobEnqueuedEvent(job), transaction);
    return { job, existing: false };
  });
}

/**
 * Cancels a job: a pending job is cancelled at once; a running one gets a cancel request, which the
 * runner holding it sees within its poll interval (it then ends the process group). A finished job
 * is a 409. Returns the job as it is after the change.
 */
export async function cancelJob(cmd: CommandContext, jobId: number): Promise<Job> {
  const by = `cancelled by ${cmd.actor.username}`;
  return inTransaction(cmd, async (transaction) => {
    const { Job } = cmd.models;
    // A locking read sees the latest committed row and holds it: a runner's claim (SELECT … FOR
    // UPDATE SKIP LOCKED) skips the job until we commit, or we wait for its claim to commit and see
    // the job running. A plain read in this REPEATABLE READ transaction could return a `pending`
    // snapshot of a job a runner had just claimed, and the cancel was acknowledged and then lost.
    // (SQLite: the transaction is IMMEDIATE, so the claim cannot interleave at all.)
    const before = await Job.findByPk(jobId, { transaction, lock: transaction.LOCK.UPDATE });
    if (!before) throw new NotFoundError('No such job.');
    if (isFinalJobStatus(before.status)) throw new ConflictError(`The job has already finished (${before.status}).`);
    const now = new Date();
    if (before.status === 'pending') {
      // Not started yet: nobody else will touch it once it is cancelled here.
      await Job.update({ status: 'cancelled', finishedAt: now, cancelRequestedAt: now, error: `${by} before it started` }, { where: { id: before.id, status: 'pending' }, transaction });
    } else if (!before.cancelRequestedAt) {
      await Job.update({ cancelRequestedAt: now, error: by }, { where: { id: before.id, status: 'running' }, transaction });
    }
    const job = (await Job.findByPk(before.id, { transaction, lock: transaction.LOCK.UPDATE }))!;
    const changes = changedFields(before.get(), job.get(), ['status', 'cancelRequestedAt']);
    await cmd.auditor.record(cmd.actor, { action: 'job.cancel', objectType: 'job', objectId: job.id, objectLabel: jobAuditLabel(job), changes }, transaction);
    return job;
  });
}
