// A job that fails mails its requester (src/jobs/failure-mail.ts, the runner's onFinished hook), with
// a real SMTP server; a mail that cannot go never fails or delays the job's final status.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Config } from '../../../config/index.js';
import type { Job, User } from '../../../models/index.js';
import { cancelJob } from '../../../src/jobs/commands.js';
import { failureMailer, mailJobFailure } from '../../../src/jobs/failure-mail.js';
import type { JobOutcome } from '../../../src/jobs/runner.js';
import { createLogger } from '../../../src/lib/logger.js';
import type { SendResult } from '../../../src/lib/mail/index.js';
import { createJob, createJobRunner } from '../../factories/jobs.js';
import { createUser } from '../../factories/users.js';
import { testCommand } from '../../support/command.js';
import { testConfig, testContext } from '../../support/context.js';
import { track } from '../../support/resources.js';
import { captureLogs, insertShellJob, startRunner, startRunnerProcess, waitForJob } from '../../support/runner.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';

const PUBLIC_URL = 'https://berth.example.org';
const smtpEnv = (port: number, extra: Record<string, string> = {}) => ({
  SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_SECURE: 'none', MAIL_FROM: 'Berth <berth@test.invalid>', PUBLIC_URL, ...extra,
});

/** Polls `check` until it is true, failing after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A user with an email address of its own. */
async function requesterWithEmail(): Promise<User> {
  const { user } = await createUser();
  await user.update({ email: `${user.username}@example.org` });
  return user;
}

/**
 * A runner mailing failures through `config`, recording each hook call's result (after the send
 * ended), so a test can wait for "the hook has run for job N" instead of waiting for a mail that must not come.
 */
async function mailingRunner(config: Config) {
  const logs = captureLogs();
  const logger = createLogger('info', logs.stream);
  const hooked = new Map<number, { outcome: JobOutcome; result: SendResult | null }>();
  const deps = { models: testContext().db.models, config, logger };
  const runner = await startRunner({
    config,
    logger,
    onFinished: async (job: Job, outcome: JobOutcome) => {
      hooked.set(job.id, { outcome, result: await mailJobFailure(deps, job, outcome) });
    },
  });
  return { runner, logs, hooked };
}

describe('jobs: a failed job mails its requester', function () {
  this.timeout(60_000);
  let smtp: SmtpSink;
  beforeEach(async () => {
    smtp = await startSmtpServer();
  });
  afterEach(async () => {
    await smtp.close();
  });

  it('mails the error, the last 20 output lines and the status page link', async () => {
    const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port));
    const { runner, hooked } = await mailingRunner(config);
    const user = await requesterWithEmail();
    const id = await insertShellJob('seq 1 30; exit 3', { createdBy: user.username });
    const job = await waitForJob(id);
    expect(job.status).to.equal('failure');

    const mail = await smtp.waitFor((m) => m.subject === `Job ${id} failed: seq 1 30; exit 3`);
    expect(mail.to).to.deep.equal([user.email]);
    expect(mail.text).to.contain('Error: exited with code 3').and.contain(`${PUBLIC_URL}/status/${id}`);
    // The text part quotes the last 20 lines, indented: 11 to 30, not 10.
    expect(mail.text).to.match(/^ {4}11\r?$/m).and.to.match(/^ {4}30\r?$/m);
    expect(mail.text).not.to.match(/^ {4}10\r?$/m);
    await until('the hook ended', () => hooked.has(id));
    expect(hooked.get(id)!.result).to.deep.equal({ sent: true });
    await runner.close();
  });

  it('does not mail a cancelled job, a successful one, or a requester without an email address', async () => {
    const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port));
    const { runner, hooked } = await mailingRunner(config);
    const user = await requesterWithEmail();
    const { user: noEmail } = await createUser();

    const long = await insertShellJob('echo started; sleep 30', { createdBy: user.username });
    await waitForJob(long, 10_000, (j) => j.status === 'running');
    await cancelJob(testCommand({ actor: { username: user.username } }), long);
    const ok = await insertShellJob('echo fine', { createdBy: user.username });
    const anonymous = await insertShellJob('exit 4', { createdBy: noEmail.username });

    for (const id of [long, ok, anonymous]) await until(`the hook ran for job ${id}`, () => hooked.has(id), 15_000);
    expect(hooked.get(long)).to.deep.include({ result: null });
    expect(hooked.get(long)!.outcome.status).to.equal('cancelled');
    expect(hooked.get(ok)).to.deep.include({ result: null });
    expect(hooked.get(anonymous)!.outcome.status).to.equal('failure');
    expect(hooked.get(anonymous)!.result).to.equal(null);
    // Each hook call had ended (its send too, had there been one): nothing arrived for any of them.
    expect(smtp.messages.filter((m) => [long, ok, anonymous].some((id) => m.subject.startsWith(`Job ${id} `)))).to.deep.equal([]);
    await runner.close();
  });

  it('records the failure at once while the SMTP server hangs, and logs the mail that could not go', async () => {
    // A server that accepts connections and never says a word: the mailer waits out SMTP_TIMEOUT_MS.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const closeSilent = track('silent smtp server', () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      silent.close(() => resolve());
    }));
    const config = testConfig(testContext().scratch.url, smtpEnv((silent.address() as AddressInfo).port, { SMTP_TIMEOUT_MS: '20000' }));
    const { runner, logs, hooked } = await mailingRunner(config);
    const user = await requesterWithEmail();

    const started = Date.now();
    const id = await insertShellJob('echo doomed; exit 5', { createdBy: user.username });
    const job = await waitForJob(id, 5000);
    expect(job).to.include({ status: 'failure', exitCode: 5, error: 'exited with code 5' });
    // The mail is under way, stuck on the silent server, and the job's result did not wait for it.
    await until('the mailer connected', () => sockets.size > 0);
    expect(hooked.has(id), 'the hook is still waiting on SMTP').to.equal(false);
    expect(Date.now() - started).to.be.below(10_000);
    // The runner goes on with the next job meanwhile.
    const next = await waitForJob(await insertShellJob('echo next'), 5000);
    expect(next.status).to.equal('success');

    // The server goes away: the send fails, is logged, and the job stays as it was.
    await closeSilent();
    await until('the hook ended', () => hooked.has(id));
    expect(hooked.get(id)!.result).to.include({ sent: false });
    expect(logs.lines.find((l) => l.msg === 'mail not sent' && l.template === 'job-failed')).to.be.an('object');
    expect((await testContext().db.models.Job.findByPk(id))!.status).to.equal('failure');
    await runner.close();
  });

  it('with SMTP down (connection refused) the job is still recorded as failure', async () => {
    // A port nothing listens on any more.
    const gone = net.createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', () => resolve()));
    const port = (gone.address() as AddressInfo).port;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    const config = testConfig(testContext().scratch.url, smtpEnv(port));
    const { runner, hooked } = await mailingRunner(config);
    const user = await requesterWithEmail();
    const id = await insertShellJob('exit 6', { createdBy: user.username });
    expect((await waitForJob(id, 5000)).status).to.equal('failure');
    await until('the hook ended', () => hooked.has(id));
    expect(hooked.get(id)!.result).to.include({ sent: false });
    expect(hooked.get(id)!.result!.reason).to.match(/ECONNREFUSED|connect/i);
    await runner.close();
  });

  it('sends nothing when SMTP is not configured, and a hook error never touches the job', async () => {
    const config = testConfig(testContext().scratch.url, { PUBLIC_URL });
    const user = await requesterWithEmail();
    const logs = captureLogs();
    const deps = { models: testContext().db.models, config, logger: createLogger('debug', logs.stream) };
    const job = { id: 1, command: 'false', createdBy: user.username };
    expect(await mailJobFailure(deps, job, { status: 'failure', exitCode: 1, error: 'exited with code 1' })).to.equal(null);
    expect(logs.lines.find((l) => l.msg === 'failed job not mailed: SMTP_HOST is not configured')).to.be.an('object');

    // A hook that throws is logged by the runner; the job's status is what the job did.
    const runnerLogs = captureLogs();
    const runner = await startRunner({
      logger: createLogger('info', runnerLogs.stream),
      onFinished: () => {
        throw new Error('hook exploded');
      },
    });
    const id = await insertShellJob('exit 7', { createdBy: user.username });
    expect((await waitForJob(id, 5000)).status).to.equal('failure');
    await until('the hook error was logged', () => runnerLogs.lines.some((l) => l.msg === 'job finished hook failed' && l.jobId === id));
    await runner.close();
  });

  it('also calls the hook for a dead runner\'s job it marks failed (nobody else will)', async () => {
    const user = await requesterWithEmail();
    // A runner that stopped beating a minute ago, holding a running job.
    const dead = await createJobRunner({ heartbeatAt: new Date(Date.now() - 60_000) });
    const orphan = await createJob({ command: 'sleep 600', createdBy: user.username, status: 'running', lockedBy: dead.id, lockedAt: new Date(Date.now() - 60_000), startedAt: new Date(Date.now() - 60_000) });
    const seen: Array<{ job: Job; outcome: JobOutcome }> = [];
    const runner = await startRunner({ heartbeatSeconds: 1, staleSeconds: 3, onFinished: (job, outcome) => void seen.push({ job, outcome }) });
    try {
      await until('the orphan was recovered and reported', () => seen.some((s) => s.job.id === orphan.id));
      const { outcome } = seen.find((s) => s.job.id === orphan.id)!;
      expect(outcome.status).to.equal('failure');
      expect(outcome.error).to.contain('stopped heartbeating');
    } finally {
      await runner.close();
    }
  });

  it('job-runner.ts mails the requester of a failed job', async () => {
    const user = await requesterWithEmail();
    const proc = await startRunnerProcess(smtpEnv(smtp.port));
    try {
      const id = await insertShellJob('echo "disk full" >&2; exit 2', { createdBy: user.username });
      expect((await waitForJob(id)).status).to.equal('failure');
      // The subject is MIME-encoded (the command has quotes): find the mail by its recipient.
      const mail = await smtp.waitFor((m) => m.to.includes(user.email!), 15_000);
      expect(mail.text).to.contain('disk full').and.contain('exited with code 2').and.contain(`${PUBLIC_URL}/status/${id}`);
    } finally {
      await proc.stop();
    }
  });
});

describe('jobs: failureMailer', () => {
  it('is the hook job-runner.ts installs: it mails only failures', async () => {
    const smtp = await startSmtpServer();
    try {
      const user = await requesterWithEmail();
      const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port));
      const hook = failureMailer({ models: testContext().db.models, config, logger: createLogger('silent') });
      const job = await testContext().db.models.Job.create({ command: 'make release', createdBy: user.username, task: null, params: null, lockedBy: null, lockedAt: null, startedAt: null, finishedAt: null, timeoutSeconds: null, cancelRequestedAt: null, exitCode: null, error: null });
      await hook(job, { status: 'success', exitCode: 0, error: null });
      await hook(job, { status: 'failure', exitCode: null, error: 'timed out after 60 s' });
      const mail = await smtp.waitFor((m) => m.subject === `Job ${job.id} failed: make release`);
      expect(mail.text).to.contain('timed out after 60 s').and.contain('It printed nothing.');
      expect(smtp.messages.filter((m) => m.subject.startsWith(`Job ${job.id} `))).to.have.length(1);
    } finally {
      await smtp.close();
    }
  });
});
