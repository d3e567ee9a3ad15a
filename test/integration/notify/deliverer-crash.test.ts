// A deliverer process (test/support/deliverer-process.ts: the deliverer as the job runner runs it)
// SIGKILLed with messages in flight: after a restart every message is delivered, and at most the one
// message in flight at the kill is delivered twice (the bound in src/notify/deliverer.ts), with the
// same Message-ID both times.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { expect } from 'chai';
import { leaseMs } from '../../../src/notify/deliverer.js';
import { queueMail } from '../../../src/notify/outbox.js';
import { projectRoot } from '../../../src/lib/paths.js';
import { testConfig, testContext } from '../../support/context.js';
import { outboxMark, outboxRows } from '../../support/outbox.js';
import { track } from '../../support/resources.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('notify: a deliverer process killed with messages in flight', function () {
  this.timeout(90_000);
  let smtp: SmtpSink;
  beforeEach(async () => {
    smtp = await startSmtpServer();
  });
  afterEach(async () => {
    await smtp.close();
  });

  const env = () => ({
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_SECURE: 'none',
    SMTP_TIMEOUT_MS: '5000',
    MAIL_FROM: 'Berth <berth@test.invalid>',
    PUBLIC_URL: 'https://berth.example.org',
  });

  async function queueTagged(tag: string, count: number): Promise<number[]> {
    const { db } = testContext();
    const config = testConfig(testContext().scratch.url, env());
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const row = await db.sequelize.transaction((t) => queueMail({ models: db.models, config }, { to: [`crash${i}@example.org`], subject: `${tag} #${i}`, template: 'test-email', category: 'test-email', data: { sender: 'crash test' } }, t));
      ids.push(row.id);
    }
    return ids;
  }

  /** Starts the deliverer process; `clockOffsetMs` moves its clock ahead (a restart after the lease ran out). */
  async function startDeliverer(since: number, clockOffsetMs = 0) {
    const { config } = testContext();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'test/support/deliverer-process.ts'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'test',
        DATABASE_URL: testContext().scratch.url,
        DATA_DIR: config.DATA_DIR,
        SESSION_SECRET: 'test-session-secret-that-is-long-enough-1234567890',
        LOG_LEVEL: 'info',
        OUTBOX_POLL_MS: '50',
        OUTBOX_TEST_SINCE: String(since),
        OUTBOX_TEST_CLOCK_OFFSET_MS: String(clockOffsetMs),
        ...env(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const lines: Array<Record<string, any>> = [];
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      try {
        lines.push(JSON.parse(line));
      } catch {
        /* not a log line */
      }
    });
    const kill = track(`deliverer process ${proc.pid}`, async () => {
      proc.kill('SIGKILL');
      await exited;
    });
    await until(`the deliverer process started (${stderr})`, () => lines.some((l) => l.msg === 'deliverer started'), 30_000);
    return { proc, lines, kill };
  }

  it('killed while the SMTP server holds a message: after the restart every message arrives exactly once', async () => {
    const since = await outboxMark();
    await smtp.setFault({ kind: 'hang', times: 1 });
    const tag = `held${Date.now() % 1e6}`;
    const ids = await queueTagged(tag, 8);
    const first = await startDeliverer(since);
    await smtp.waitForRejections(1, 'hang', 20_000);
    await first.kill();
    // The held message is leased to the dead deliverer; the rest were never claimed.
    const rows = await outboxRows(ids);
    expect(rows.filter((r) => r.status === 'sending')).to.have.length(1);
    expect(rows.filter((r) => r.status === 'queued')).to.have.length(7);

    const config = testConfig(testContext().scratch.url, env());
    const second = await startDeliverer(since, leaseMs(config) + 1000);
    await until('every message sent', async () => (await outboxRows(ids)).every((r) => r.status === 'sent'));
    await second.kill();
    const received = smtp.messages.filter((m) => m.subject.startsWith(`${tag} `)).map((m) => m.subject).sort();
    expect(received).to.deep.equal(ids.map((_id, i) => `${tag} #${i}`).sort());
  });

  it('killed at a random moment mid-queue: every message arrives, at most one twice (with one Message-ID)', async () => {
    const since = await outboxMark();
    const tag = `kill${Date.now() % 1e6}`;
    const ids = await queueTagged(tag, 30);
    const first = await startDeliverer(since);
    // Kill it the moment the sixth message is in: the seventh is most likely on the wire.
    await smtp.waitFor(() => smtp.messages.filter((m) => m.subject.startsWith(`${tag} `)).length >= 6, 30_000);
    first.proc.kill('SIGKILL');
    await first.kill();
    const inFlight = (await outboxRows(ids)).filter((r) => r.status === 'sending');
    expect(inFlight.length, 'one message at a time per deliverer').to.be.at.most(1);

    const config = testConfig(testContext().scratch.url, env());
    const second = await startDeliverer(since, leaseMs(config) + 1000);
    await until('every message sent', async () => (await outboxRows(ids)).every((r) => r.status === 'sent'));
    await second.kill();

    const mine = smtp.messages.filter((m) => m.subject.startsWith(`${tag} `));
    const bySubject = new Map<string, string[]>();
    for (const m of mine) bySubject.set(m.subject, [...(bySubject.get(m.subject) ?? []), m.messageId ?? '']);
    expect([...bySubject.keys()].sort()).to.deep.equal(ids.map((_id, i) => `${tag} #${i}`).sort());
    const twice = [...bySubject.entries()].filter(([, messageIds]) => messageIds.length > 1);
    expect(twice.length, 'duplicates: at most the one in flight').to.be.at.most(1);
    expect(mine.length).to.be.at.most(ids.length + 1);
    for (const [, messageIds] of twice) expect(new Set(messageIds).size, 'a resend carries the same Message-ID').to.equal(1);
  });
});
