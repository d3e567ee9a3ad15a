import type { Transaction } from 'sequelize';
import type { Job, Models } from '../../models/index.js';
import type { AuditActor, Auditor } from '../audit/index.js';
import { enqueueJob, jobEnqueuedEvent } from './enqueue.js';
import { SYNC_TASK } from './tasks/inventory-sync.js';

// Beside enqueue.ts rather than in the task's module: enqueue.ts loads every task (tasks/index.ts),
// so a task module that imported enqueue.ts would close an import cycle.
/**
 * Enqueues a sync and audits `job.enqueue` in the caller's transaction (the button on the drift
 * page, and the scheduler with actor null).
 */
export async function enqueueInventorySync(deps: { models: Models; auditor: Auditor }, actor: AuditActor, t: Transaction): Promise<Job> {
  const job = await enqueueJob(deps.models, {
    task: SYNC_TASK,
    params: {},
    createdBy: actor.username,
    // The scheduler is Berth itself; a person reaches this only through an admin route.
    mayRunAdminTasks: true,
    transaction: t,
    subjectType: 'inventory',
    subjectId: null,
  });
  await deps.auditor.record(actor, jobEnqueuedEvent(job), t);
  return job;
}
