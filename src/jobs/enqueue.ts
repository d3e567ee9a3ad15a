import { EventEmitter } from 'node:events';
import type { Transaction } from 'sequelize';
import type { Job, Models } from '../../models/index.js';
import type { AuditInput } from '../audit/index.js';
import { ForbiddenError, ValidationError } from '../lib/errors.js';
import { getTask, SHELL_TASK } from './tasks/index.js';
import { announceJobs } from './wake.js';

/**
 * In-process nudge: a runner living in the same process as the code that enqueued (tests, a combined
 * dev process) wakes at once. Runners in other processes are woken by announceJobs (src/jobs/wake.ts).
 */
export const jobEvents = new EventEmitter();
jobEvents.setMaxListeners(0);

export interface EnqueueRequest {
  /** A registered task name; omitted for the raw shell command. */
  task?: string;
  params?: unknown;
  /** The raw shell command (admins only). */
  command?: string;
  /** Username of the requester (owner of the job). */
  createdBy: string | null;
  /** Whether the requester may run admin-only tasks: the policy's answer (`can(user, 'runAdminTask')`), or true for Berth itself. */
  mayRunAdminTasks: boolean;
  timeoutSeconds?: number | null;
  /** The transaction to insert in (with the caller's audit event); the runner is nudged after it commits. */
  transaction?: Transaction;
  /** What the job is about (e.g. 'inventory', 'container' + id), for pages that list an object's jobs. */
  subjectType?: string | null;
  subjectId?: number | null;
}

/** How much of a job's description the audit trail keeps: a raw shell command may hold a secret further on. */
const AUDIT_LABEL_CHARS = 200;

/** A job's label in the audit trail: the start of its description. */
export const jobAuditLabel = (job: Pick<Job, 'command'>): string => job.command.slice(0, AUDIT_LABEL_CHARS);

/**
 * The `job.enqueue` audit event for a new job: the task name and the start of its description, never
 * its parameters (they may carry secrets). Record it in the transaction that inserted the job.
 */
export function jobEnqueuedEvent(job: Job): AuditInput {
  return {
    action: 'job.enqueue',
    objectType: 'job',
    objectId: job.id,
    objectLabel: jobAuditLabel(job),
    changes: { task: { after: job.task ?? SHELL_TASK } },
  };
}

/** Validates a task and its parameters and inserts a pending job. */
export async function enqueueJob(models: Models, req: EnqueueRequest): Promise<Job> {
  const taskName = req.task ?? SHELL_TASK;
  const task = getTask(taskName);
  if (!task) throw new ValidationError('Unknown task.', { task: `no task named '${taskName}'` });
  if (task.adminOnly && !req.mayRunAdminTasks) throw new ForbiddenError('Administrators only.');
  const raw = taskName === SHELL_TASK ? { command: req.command } : (req.params ?? {});
  const parsed = task.schema.safeParse(raw);
  if (!parsed.success) {
    const fields: Record<string, string> = {};
    for (const issue of parsed.error.issues) fields[['params', ...issue.path.map(String)].join('.')] ??= issue.message;
    if (taskName === SHELL_TASK) fields.command = fields['params.command'] ?? 'is required';
    throw new ValidationError('Invalid job parameters.', fields);
  }
  const job = await models.Job.create({
    command: task.describe(parsed.data).slice(0, 2000),
    status: 'pending',
    createdBy: req.createdBy,
    // A shell job is stored as the seed's: command only, task NULL.
    task: taskName === SHELL_TASK ? null : taskName,
    params: taskName === SHELL_TASK ? null : JSON.stringify(parsed.data),
    lockedBy: null,
    lockedAt: null,
    startedAt: null,
    finishedAt: null,
    timeoutSeconds: req.timeoutSeconds ?? null,
    cancelRequestedAt: null,
    exitCode: null,
    error: null,
    subjectType: req.subjectType ?? null,
    subjectId: req.subjectId ?? null,
  }, { transaction: req.transaction });
  // A runner woken before the commit would not see the row yet. Runners here are nudged; runners in
  // other processes are woken through the database or the wake file (not awaited: a lost wake-up only
  // leaves the job to their poll).
  const announce = () => {
    jobEvents.emit('enqueued', job.id);
    if (models.Job.sequelize) void announceJobs(models.Job.sequelize);
  };
  if (req.transaction) req.transaction.afterCommit(announce);
  else announce();
  return job;
}
