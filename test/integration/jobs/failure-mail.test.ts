// A job that fails mails its requester (src/jobs/failure-mail.ts): the mail is queued in the outbox
// in the transaction that records the failure (the runner's finish, or the heartbeat marking a dead
// runner's job failed), and delivered by the outbox's deliverer to a real SMTP server. A mail that
// cannot go never fails or delays the job's final status.
import { expect } from 'chai';
import type { Config } from '../../../config/index.js';
import type { User } from '../../../models/index.js';
import { cancelJob } from '../../../src/jobs/commands.js';
import { ERROR_MAX_CHARS, queueJobFailureMail } from '../../../src/jobs/failure-mail.js';
import { createLogger } from '../../../src/lib/logger.js';
import { openPayload } from '../../../src/notify/outbox.js';
import { createJob, createJobRunner } from '../../factories/jobs.js';
import { createUser } from '../../factories/users.js';
import { testCommand } from '../../support/command.js';
import { testConfig, testContext } from '../../support/context.js';
import { startTestDeliverer } from '../../support/outbox.js';
import { captureLogs, insertShellJob, startRunner, startRunnerProcess, waitForJob } from '../../support/runner.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';

const PUBLIC_URL = 'https://berth.example.org';
const smtpEnv = (port: number, extra: Record<string, string> = {}) => ({
  SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_SECURE: 'none', MAIL_FROM: 'Berth <berth@test.invalid>', PUBLIC_URL, OUTBOX_POLL_MS: '50', ...extra,
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

/** The failure mail queued for job `id`, if any (one per job: its dedupe key). */
const failureMailOf = (id: number) => testContext().db.models.OutboxMessage.findOne({ where: { dedupeKey: `job-failed:${id}` } });

/** A runner on `config` (so failures queue their mail) and a deliverer sending to its SMTP server. */
async function mailingRunner(config: Config) {
  const logs = captureLogs();
  const logger = createLogger('info', logs.stream);
  const runner = await startRunner({ config, logger });
  const deliverer = await startTestDeliverer(config);
  return { runner, deliverer, logs };
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

  it('queues the mail with the failure, then delivers the error, the last 20 output lines and the status page link', async () => {
    const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port));
    const { runner, deliverer } = await mailingRunner(config);
    const user = await requesterWithEmail();
    const id = await insertShellJob('seq 1 30; exit 3', { createdBy: user.username });
    const job = await waitForJob(id);
    expect(job.status).to.equal('failure');
    // Same transaction: the moment the failure is visible, so is its mail.
    const queued = await failureMailOf(id);
    expect(queued).to.include({ category: 'job-failed', forUser: user.username, template: 'job-failed' });
    expect(JSON.parse(queued!.recipients)).to.deep.equal([user.email]);

    const mail = await smtp.waitFor((m) => m.subject === `Job ${id} failed: seq 1 30; exit 3`);
    expect(mail.to).to.deep.equal([user.email]);
    expect(mail.text).to.contain('Error: exited with code 3').and.contain(`${PUBLIC_URL}/status/${id}`);
    // The text part quotes the last 20 lines, indented: 11 to 30, not 10.
    expect(mail.text).to.match(/^ {4}11\r?$/m).and.to.match(/^ {4}30\r?$/m);
    expect(mail.text).not.to.match(/^ {4}10\r?$/m);
    await until('the outbox row is marked sent', async () => (await failureMailOf(id))!.status === 'sent');
    await deliverer.close();
    await runner.close();
  });

  it('queues nothing for a cancelled job or a successful one', async () => {
    const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port));
    const { runner, deliverer } = await mailingRunner(config);
    const user = await requesterWithEmail();

    const long = await insertShellJob('echo started; sleep 30', { createdBy: user.username });
    await waitForJob(long, 10_000, (j) => j.status === 'running');
    await cancelJob(testCommand({ actor: { username: user.username } }), long);
    const ok = await insertShellJob('echo fine', { createdBy: user.username });
    expect((await waitForJob(long)).status).to.equal('cancelled');
    expect((await waitForJob(ok)).status).to.equal('success');
    // The mail would have been queued with the final status: there is none for either.
    for (const id of [long, ok]) expect(await failureMailOf(id), `job ${id}`).to.equal(null);
    await deliverer.close();
    await runner.close();
  });

  it('queues the mail of a requester without an email address too: delivery leaves it failed in the outbox with the reason', async () => {
    const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port));
    const { runner, deliverer } = await mailingRunner(config);
    const { user: noEmail } = await createUser();
    const id = await insertShellJob('exit 4', { createdBy: noEmail.username });
    expect((await waitForJob(id)).status).to.equal('failure');
    const queued = await failureMailOf(id);
    expect(queued, 'queued with the failure').to.be.an('object');
    expect(queued).to.include({ forUser: noEmail.username, category: 'job-failed' });
    expect(JSON.parse(queued!.recipients)).to.deep.equal([]);
    await until('delivery gave up on it', async () => (await failureMailOf(id))!.status === 'failed');
    expect((await failureMailOf(id))!.lastError).to.equal(`no email address for ${noEmail.username}`);
    expect(smtp.messages.filter((m) => m.subject.startsWith(`Job ${id} `))).to.have.length(0);
    await deliverer.close();
    await runner.close();
  });

  it('records the failure at once while the SMTP server hangs; the mail waits in the outbox and goes once it answers', async () => {
    await smtp.setFault({ kind: 'hang' });
    const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port, { SMTP_TIMEOUT_MS: '300' }));
    const { runner, deliverer } = await mailingRunner(config);
    const user = await requesterWithEmail();
    const started = Date.now();
    const id = await insertShellJob('echo doomed; exit 5', { createdBy: user.username });
    const job = await waitForJob(id, 5000);
    expect(job).to.include({ status: 'failure', exitCode: 5, error: 'exited with code 5' });
    expect(Date.now() - started).to.be.below(5000);
    // The runner goes on with the next job while the deliverer waits on the silent server.
    expect((await waitForJob(await insertShellJob('echo next'), 5000)).status).to.equal('success');
    await smtp.waitForRejections(1, 'hang');
    await until('the hung attempt was recorded', async () => Boolean((await failureMailOf(id))!.lastError));
    const after = (await failureMailOf(id))!;
    expect(after).to.include({ status: 'queued', attempts: 1 });
    expect(after.lastError).to.match(/ETIMEDOUT|timeout/i);
    expect((await testContext().db.models.Job.findByPk(id))!.status).to.equal('failure');
    // The server answers again and the retry is due (as an admin's "retry now" makes it): delivered once.
    await smtp.setFault({ kind: 'none' });
    await after.update({ nextAttemptAt: new Date() });
    await smtp.waitFor((m) => m.subject === `Job ${id} failed: echo doomed; exit 5`);
    await until('sent', async () => (await failureMailOf(id))!.status === 'sent');
    expect(smtp.messages.filter((m) => m.subject.startsWith(`Job ${id} `))).to.have.length(1);
    await deliverer.close();
    await runner.close();
  });

  it('queues the mail even when SMTP is not configured (it waits in the outbox), and a hook error never touches the job', async () => {
    const config = testConfig(testContext().scratch.url, { PUBLIC_URL });
    const user = await requesterWithEmail();
    const { db } = testContext();
    const deps = { models: db.models, config, logger: createLogger('silent') };
    const job = await createJob({ command: 'false', createdBy: user.username, status: 'failure', finishedAt: new Date() });
    const queued = await db.sequelize.transaction((t) => queueJobFailureMail(deps, job, { status: 'failure', exitCode: 1, error: 'exited with code 1' }, t));
    expect(queued).to.include({ status: 'queued', forUser: user.username });
    expect(JSON.parse(queued!.recipients)).to.deep.equal([user.email]);

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

  it("queues the mail of a dead runner's job in the transaction that marks it failed (nobody else will)", async () => {
    const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port));
    const user = await requesterWithEmail();
    // A runner that stopped beating a minute ago, holding a running job.
    const dead = await createJobRunner({ heartbeatAt: new Date(Date.now() - 60_000) });
    const orphan = await createJob({ command: 'sleep 600', createdBy: user.username, status: 'running', lockedBy: dead.id, lockedAt: new Date(Date.now() - 60_000), startedAt: new Date(Date.now() - 60_000) });
    const runner = await startRunner({ config, heartbeatSeconds: 1, staleSeconds: 3 });
    const deliverer = await startTestDeliverer(config);
    try {
      await waitForJob(orphan.id, 15_000);
      const queued = await failureMailOf(orphan.id);
      expect(queued, 'queued with the failure').to.be.an('object');
      expect(openPayload(config, queued!).error).to.contain('stopped heartbeating');
      const mail = await smtp.waitFor((m) => m.subject === `Job ${orphan.id} failed: sleep 600`);
      expect(mail.to).to.deep.equal([user.email]);
    } finally {
      await deliverer.close();
      await runner.close();
    }
  });

  it('job-runner.ts queues the mail of a failed job, and it reaches the requester', async () => {
    const user = await requesterWithEmail();
    const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port));
    // This test's message only: the database is shared with other tests' due messages.
    const deliverer = await startTestDeliverer(config, { scope: { forUser: user.username } });
    // Without SMTP_HOST the runner process delivers nothing (its deliverer would take every due
    // message in the shared database); the same data directory, so both seal and open the outbox
    // with the same vault key.
    const proc = await startRunnerProcess({ PUBLIC_URL, DATA_DIR: config.DATA_DIR });
    try {
      const id = await insertShellJob('echo "disk full" >&2; exit 2', { createdBy: user.username });
      expect((await waitForJob(id)).status).to.equal('failure');
      expect(await failureMailOf(id), 'queued with the failure').to.be.an('object');
      // The subject is MIME-encoded (the command has quotes): find the mail by its recipient.
      const mail = await smtp.waitFor((m) => m.to.includes(user.email!), 15_000);
      expect(mail.text).to.contain('disk full').and.contain('exited with code 2').and.contain(`${PUBLIC_URL}/status/${id}`);
      await until('sent', async () => (await failureMailOf(id))!.status === 'sent');
      expect(smtp.messages.filter((m) => m.to.includes(user.email!))).to.have.length(1);
    } finally {
      await proc.stop();
      await deliverer.close();
    }
  });
});

describe('jobs: queueJobFailureMail', () => {
  it('queues one mail per failed job (a second call is a no-op), nothing for other outcomes', async () => {
    const smtp = { port: 2525 };
    const user = await requesterWithEmail();
    const config = testConfig(testContext().scratch.url, smtpEnv(smtp.port));
    const { db } = testContext();
    const deps = { models: db.models, config, logger: createLogger('silent') };
    const job = await db.models.Job.create({ command: 'make release', createdBy: user.username, task: null, params: null, lockedBy: null, lockedAt: null, startedAt: null, finishedAt: null, timeoutSeconds: null, cancelRequestedAt: null, exitCode: null, error: null });
    const queue = (status: 'success' | 'failure') => db.sequelize.transaction((t) => queueJobFailureMail(deps, job, { status, exitCode: null, error: status === 'failure' ? 'timed out after 60 s' : null }, t));
    expect(await queue('success')).to.equal(null);
    const first = await queue('failure');
    const second = await queue('failure');
    expect(second!.id).to.equal(first!.id);
    expect(first).to.include({ subject: `Job ${job.id} failed: make release`, status: 'queued' });
    expect(openPayload(config, first!)).to.include({ error: 'timed out after 60 s', jobId: job.id });
    expect(await db.models.OutboxMessage.count({ where: { dedupeKey: `job-failed:${job.id}` } })).to.equal(1);
  });

  it('quotes at most ERROR_MAX_CHARS of the recorded error', async () => {
    const user = await requesterWithEmail();
    const config = testConfig(testContext().scratch.url, { PUBLIC_URL });
    const { db } = testContext();
    const deps = { models: db.models, config, logger: createLogger('silent') };
    const job = await createJob({ command: 'make huge', createdBy: user.username, status: 'failure', finishedAt: new Date() });
    const error = `boom ${'x'.repeat(10_000)}`;
    const queued = await db.sequelize.transaction((t) => queueJobFailureMail(deps, job, { status: 'failure', exitCode: 1, error }, t));
    const quoted = openPayload(config, queued!).error as string;
    expect(quoted).to.equal(`${error.slice(0, ERROR_MAX_CHARS)}…`);
  });
});
