// A job that fails mails its requester: what it was, why it failed, how its output ended, and where
// to see the rest. The mail is queued in the outbox in the transaction that records the failure
// (src/jobs/runner.ts finish, src/jobs/heartbeat.ts recoverStale) and delivered by the outbox's
// deliverer, so a mail problem can never delay or change a job's result.
import type { Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Job, Models, OutboxMessage } from '../../models/index.js';
import type { Logger } from '../lib/logger.js';
import { queueMail } from '../notify/outbox.js';
import { jobAuditLabel } from './enqueue.js';

/** How a job ended (runner.ts's JobOutcome; declared here so the runner can import this file without a cycle). */
export interface JobOutcome {
  status: string;
  exitCode: number | null;
  error: string | null;
}

/** How much of the output the mail quotes: enough to see the error in context, short enough to read. */
export const FAILURE_MAIL_LINES = 20;
/** A single line longer than this is cut (a progress bar or a blob would drown the rest). */
const LINE_MAX_CHARS = 500;

/** How much of the recorded error the mail quotes (a runaway message would bloat the sealed payload). */
export const ERROR_MAX_CHARS = 2000;

const quotedError = (error: string | null): string => {
  if (!error) return 'no reason was recorded';
  return error.length > ERROR_MAX_CHARS ? `${error.slice(0, ERROR_MAX_CHARS)}…` : error;
};

export interface FailureMailDeps {
  models: Models;
  config: Config;
  logger: Logger;
}

/** The last `count` lines of the job's stored output, all streams in the order they were written. */
export async function lastOutputLines(models: Models, jobId: number, count = FAILURE_MAIL_LINES, transaction?: Transaction): Promise<string[]> {
  // Every stored row holds at least one line (or the end of one), so the last `count` rows hold the last `count` lines.
  const rows = await models.JobOutput.findAll({ where: { jobId }, attributes: ['output'], order: [['seq', 'DESC']], limit: count, raw: true, transaction });
  const lines = rows.reverse().map((r) => r.output ?? '').join('').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-count).map((line) => (line.length > LINE_MAX_CHARS ? `${line.slice(0, LINE_MAX_CHARS)}…` : line));
}

/**
 * Queues the mail to the requester of a job that ended `failure` (a cancelled job is not a failure:
 * someone chose it), in `transaction`: the one that records the job's final status (the runner's
 * `finish`, or the heartbeat marking a dead runner's job failed), so the status and its mail commit
 * together and a crash in between can neither lose the mail nor send one for a status never recorded.
 * Nothing is queued, and null returned, for any other status or a job nobody requested. A requester
 * without an email address (or an install without SMTP_HOST) still gets the mail queued: it is left
 * in the outbox with the reason (delivery fails an empty recipient list), where admins see it.
 */
export async function queueJobFailureMail(deps: FailureMailDeps, job: Pick<Job, 'id' | 'command' | 'createdBy'>, outcome: JobOutcome, transaction: Transaction): Promise<OutboxMessage | null> {
  if (outcome.status !== 'failure' || !job.createdBy) return null;
  const log = deps.logger.child({ jobId: job.id });
  const requester = await deps.models.User.findOne({ where: { username: job.createdBy }, attributes: ['email'], transaction });
  // The start of the description only, as in the audit trail: a raw shell command may hold a secret further on.
  const description = jobAuditLabel(job);
  const message = await queueMail(
    deps,
    {
      to: [requester?.email],
      subject: `Job ${job.id} failed: ${description}`,
      template: 'job-failed',
      category: 'job-failed',
      forUser: job.createdBy,
      // One mail per job, whoever records its failure.
      dedupeKey: `job-failed:${job.id}`,
      data: {
        jobId: job.id,
        description,
        error: quotedError(outcome.error),
        exitCode: outcome.exitCode,
        lines: await lastOutputLines(deps.models, job.id, FAILURE_MAIL_LINES, transaction),
        // Only a configured PUBLIC_URL: the HOST:PORT fallback is rarely what the requester can reach.
        statusUrl: deps.config.PUBLIC_URL ? `${deps.config.publicUrl}/status/${job.id}` : null,
      },
    },
    transaction,
  );
  log.info({ outboxId: message.id, ...(requester?.email ? {} : { warning: 'the requester has no email address' }) }, 'failed job mail queued');
  return message;
}
