import { EventEmitter } from 'node:events';
import type { Job, Models } from '../../models/index.js';
import { ForbiddenError, ValidationError } from '../lib/errors.js';
import { getTask, SHELL_TASK } from './tasks/index.js';

/**
 * In-process nudge: a runner living in the same process as the code that enqueued (tests, a combined
 * dev process) wakes at once instead of at its next poll. Runners elsewhere poll every
 * JOB_RUNNER_POLL_MS.
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
  /** Whether the requester is an administrator (required for admin-only tasks). */
  isAdmin: boolean;
  timeoutSeconds?: number | null;
}

/** Validates a task and its parameters and inserts a pending job. */
export async function enqueueJob(models: Models, req: EnqueueRequest): Promise<Job> {
  const taskName = req.task ?? SHELL_TASK;
  const task = getTask(taskName);
  if (!task) throw new ValidationError('Unknown task.', { task: `no task named '${taskName}'` });
  if (task.adminOnly && !req.isAdmin) throw new ForbiddenError('Administrators only.');
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
  });
  jobEvents.emit('enqueued', job.id);
  return job;
}
