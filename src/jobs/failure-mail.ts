// A job that fails mails its requester: what it was, why it failed, how its output ended, and where
// to see the rest. Wired into the runner as its onFinished hook (job-runner.ts), which runs after the
// failure is recorded, so nothing here can delay or change a job's result.
import type { Config } from '../../config/index.js';
import type { Job, Models } from '../../models/index.js';
import type { Logger } from '../lib/logger.js';
import { mailerFor, type SendResult } from '../lib/mail/index.js';
import { jobAuditLabel } from './enqueue.js';
import type { JobOutcome } from './runner.js';

/** How much of the output the mail quotes: enough to see the error in context, short enough to read. */
export const FAILURE_MAIL_LINES = 20;
/** A single line longer than this is cut (a progress bar or a blob would drown the rest). */
const LINE_MAX_CHARS = 500;

export interface FailureMailDeps {
  models: Models;
  config: Config;
  logger: Logger;
}

/** The last `count` lines of the job's stored output, all streams in the order they were written. */
export async function lastOutputLines(models: Models, jobId: number, count = FAILURE_MAIL_LINES): Promise<string[]> {
  // Every stored row holds at least one line (or the end of one), so the last `count` rows hold the last `count` lines.
  const rows = await models.JobOutput.findAll({ where: { jobId }, attributes: ['output'], order: [['seq', 'DESC']], limit: count, raw: true });
  const lines = rows.reverse().map((r) => r.output ?? '').join('').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-count).map((line) => (line.length > LINE_MAX_CHARS ? `${line.slice(0, LINE_MAX_CHARS)}…` : line));
}

/**
 * Mails the requester of a job that ended `failure` (a cancelled job is not a failure: someone
 * chose it). Nothing is sent, and null returned, for any other status, a job nobody requested, a
 * requester without an email address, or when SMTP is not configured. The mailer never throws:
 * a failed send is logged with its reason and reported in the result.
 */
export async function mailJobFailure(deps: FailureMailDeps, job: Pick<Job, 'id' | 'command' | 'createdBy'>, outcome: JobOutcome): Promise<SendResult | null> {
  if (outcome.status !== 'failure' || !job.createdBy) return null;
  const mailer = mailerFor(deps.config, deps.logger);
  const log = deps.logger.child({ jobId: job.id });
  if (!mailer.enabled) {
    log.debug('failed job not mailed: SMTP_HOST is not configured');
    return null;
  }
  const requester = await deps.models.User.findOne({ where: { username: job.createdBy }, attributes: ['email'] });
  if (!requester?.email) {
    log.debug({ createdBy: job.createdBy }, 'failed job not mailed: its requester has no email address');
    return null;
  }
  // The start of the description only, as in the audit trail: a raw shell command may hold a secret further on.
  const description = jobAuditLabel(job);
  return mailer.send({
    to: requester.email,
    subject: `Job ${job.id} failed: ${description}`,
    template: 'job-failed',
    data: {
      jobId: job.id,
      description,
      error: outcome.error ?? 'no reason was recorded',
      exitCode: outcome.exitCode,
      lines: await lastOutputLines(deps.models, job.id),
      // Only a configured PUBLIC_URL: the HOST:PORT fallback is rarely what the requester can reach.
      statusUrl: deps.config.PUBLIC_URL ? `${deps.config.publicUrl}/status/${job.id}` : null,
    },
  });
}

/** The runner's onFinished hook that mails the requester of each failed job. */
export function failureMailer(deps: FailureMailDeps): (job: Job, outcome: JobOutcome) => Promise<void> {
  return async (job, outcome) => {
    await mailJobFailure(deps, job, outcome);
  };
}
