import type { Job, JobOutput } from '../../models/index.js';

/** A job as the API shows it (the seed's fields first). */
export function presentJob(job: Job) {
  return {
    id: job.id,
    command: job.command,
    status: job.status,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    createdBy: job.createdBy,
    task: job.task,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    exitCode: job.exitCode,
    error: job.error,
    cancelRequestedAt: job.cancelRequestedAt,
  };
}

/** One output row, as in the seed plus its order (`seq`) and stream. */
export function presentJobOutput(row: JobOutput) {
  return { id: row.id, jobId: row.jobId, seq: row.seq, stream: row.stream, output: row.output, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

/** Seconds the job ran (or has been running), or null if it has not started. */
export function elapsedSeconds(job: Pick<Job, 'startedAt' | 'finishedAt'>, now = new Date()): number | null {
  if (!job.startedAt) return null;
  return Math.max(0, Math.round(((job.finishedAt ?? now).getTime() - job.startedAt.getTime()) / 1000));
}
