// The outbox deliverer (src/notify/deliverer.ts) against a real SMTP server process that misbehaves on
// command: STARTTLS and AUTH, refusals, a hang, a dropped connection, a long outage, two deliverers
// racing. Time is a controllable clock, so "two days later" takes milliseconds.
import net from 'node:net';
import { expect } from 'chai';
import type { Config } from '../../../config/index.js';
import { classifySmtpError, leaseMs, outboxMessageId, sendBudgetMs } from '../../../src/notify/deliverer.js';
import { retryOutboxMessage } from '../../../src/notify/outbox-admin.js';
import { queueMail, type OutgoingMail } from '../../../src/notify/outbox.js';
import { createLogger } from '../../../src/lib/logger.js';
import { testCommand } from '../../support/command.js';
import { testConfig, testContext } from '../../support/context.js';
import { outboxMark, outboxRows, startTestDeliverer, testDeliverer } from '../../support/outbox.js';
import { track } from '../../support/resources.js';
import { captureLogs } from '../../support/runner.js';
import { startSmtpServer, type SmtpServerOptions, type SmtpSink } from '../../support/smtp.js';

const PUBLIC_URL = 'https://berth.example.org';

/**
 * A clock the test moves by hand, started once the test's messages are queued: a second past the
 * latest of their due times and of the real time, so they are due however slow queueing was (MariaDB
 * keeps whole seconds, rounded). `catchUp` does the same for messages queued later.
 */
async function clockAfter(ids: number[]) {
  let now = 0;
  const clock = {
    now: () => now,
    advance: (ms: number) => (now += ms),
    async catchUp(queued: number[]) {
      const due = (await outboxRows(queued)).map((r) => r.nextAttemptAt.getTime());
      now = Math.max(now, Date.now(), ...due) + 1000;
    },
  };
  await clock.catchUp(ids);
  return clock;
}

const smtpEnv = (smtp: SmtpSink, extra: Record<string, string> = {}): Record<string, string> => ({
  SMTP_HOST: '127.0.0.1',
  SMTP_PORT: String(smtp.port),
  SMTP_SECURE: 'none',
  MAIL_FROM: 'Berth <berth@test.invalid>',
  PUBLIC_URL,
  SMTP_TIMEOUT_MS: '2000',
  ...extra,
});

/** Queues `count` test mails (each in its own transaction, as separate changes would); returns their ids. */
async function queue(config: Config, count: number, mail: Partial<OutgoingMail> = {}, tag = `t${Date.now() % 1e6}`): Promise<number[]> {
  const { db } = testContext();
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const row = await db.sequelize.transaction((t) =>
      queueMail({ models: db.models, config }, { to: [`user${i}@example.org`], subject: `${tag} #${i}`, template: 'test-email', category: 'test-email', data: { sender: 'tester' }, ...mail }, t),
    );
    ids.push(row.id);
  }
  return ids;
}

/**
 * A bare SMTP server (for the one fault the real test server cannot make) that takes a message and
 * then never finishes answering it: one continuation line ("250-…") every 50 ms, so the client's
 * socket is never idle long enough for its socket timeout. Only the deliverer's budget for the whole
 * send ends that. `hungUp` resolves when the client closes the connection.
 */
async function startTricklingServer() {
  const sockets = new Set<net.Socket>();
  let hangUp!: () => void;
  const hungUp = new Promise<void>((resolve) => (hangUp = resolve));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buffer = '';
    let inData = false;
    let trickle: NodeJS.Timeout | undefined;
    socket.on('error', () => {}); // the client destroying its socket is the expected end
    socket.on('close', () => {
      clearInterval(trickle);
      sockets.delete(socket);
      hangUp();
    });
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buffer = buffer.slice(end + 5);
          inData = false;
          trickle = setInterval(() => socket.write('250-still thinking\r\n'), 50);
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const verb = buffer.slice(0, 4).toUpperCase();
        buffer = buffer.slice(eol + 2);
        socket.write(verb === 'DATA' ? '354 go ahead\r\n' : '250 ok\r\n');
        inData = verb === 'DATA';
      }
    });
    socket.write('220 trickle.test ESMTP\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = track('trickling smtp server', async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, hungUp, close };
}

/** Resolves with `promise`, or rejects saying `what` when it takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** How many times the server accepted each subject. */
const countsBySubject = (smtp: SmtpSink) => smtp.messages.reduce<Record<string, number>>((acc, m) => ((acc[m.subject] = (acc[m.subject] ?? 0) + 1), acc), {});

describe('notify: the outbox deliverer against a real SMTP server', function () {
  this.timeout(60_000);
  let smtp: SmtpSink | undefined;
  const start = async (options?: SmtpServerOptions) => (smtp = await startSmtpServer(options));
  afterEach(async () => {
    await smtp?.close();
    smtp = undefined;
  });

  it('delivers over STARTTLS with AUTH, with a stable Message-ID, and marks the row sent', async () => {
    const server = await start({ tls: 'starttls', auth: { user: 'berth', pass: 'mail-secret' } });
    const config = testConfig(testContext().scratch.url, smtpEnv(server, { SMTP_SECURE: 'starttls', SMTP_TLS_VERIFY: 'false', SMTP_USER: 'berth', SMTP_PASSWORD: 'mail-secret' }));
    const deliverer = await testDeliverer(config);
    const [id] = await queue(config, 1, { subject: 'over starttls' });
    expect(await deliverer.deliverDue()).to.equal(1);
    const mail = await server.waitFor((m) => m.subject === 'over starttls');
    expect(mail).to.include({ secure: true, user: 'berth' });
    expect(mail.messageId).to.equal(outboxMessageId(config, id)).and.match(/^<outbox-\d+\.[0-9a-f]{12}@berth\.example\.org>$/);
    expect(mail.text).to.contain(`This is a test message from Berth at ${PUBLIC_URL}, sent by tester.`);
    const [row] = await outboxRows([id]);
    expect(row).to.include({ status: 'sent', attempts: 1, lastError: null, lockedBy: null, messageId: mail.messageId });
    expect(row.sentAt).to.be.instanceOf(Date);
  });

  it('a wrong SMTP password: retried with a clear reason, then failed after OUTBOX_RETRY_HOURS', async () => {
    const server = await start({ tls: 'starttls', auth: { user: 'berth', pass: 'mail-secret' } });
    const config = testConfig(testContext().scratch.url, smtpEnv(server, { SMTP_SECURE: 'starttls', SMTP_TLS_VERIFY: 'false', SMTP_USER: 'berth', SMTP_PASSWORD: 'wrong', OUTBOX_RETRY_HOURS: '1' }));
    const since = await outboxMark();
    const [id] = await queue(config, 1);
    const clock = await clockAfter([id]);
    const deliverer = await testDeliverer(config, { clock: clock.now, since });
    expect(await deliverer.deliverDue()).to.equal(0);
    let [row] = await outboxRows([id]);
    expect(row).to.include({ status: 'queued', attempts: 1 });
    expect(row.lastError).to.match(/^SMTP authentication failed \(check SMTP_USER and SMTP_PASSWORD\): .*535/);
    // (MariaDB keeps whole seconds.)
    expect(row.nextAttemptAt.getTime()).to.be.closeTo(clock.now() + 15_000, 1000);
    clock.advance(3600_000 + 1);
    await deliverer.deliverDue();
    [row] = await outboxRows([id]);
    expect(row).to.include({ status: 'failed', attempts: 2 });
    expect(row.lastError).to.match(/^gave up after 2 attempts over 1 h: SMTP authentication failed/);
    expect(server.messages).to.have.length(0);
  });

  it('4xx then accept: retried after the backoff and delivered once; 5xx: failed at once', async () => {
    const server = await start({ fault: { kind: 'refuse', code: 451, times: 1 } });
    const config = testConfig(testContext().scratch.url, smtpEnv(server));
    const since = await outboxMark();
    const [deferred] = await queue(config, 1, { subject: 'deferred once' });
    const clock = await clockAfter([deferred]);
    const deliverer = await testDeliverer(config, { clock: clock.now, since });
    expect(await deliverer.deliverDue()).to.equal(0);
    const [row] = await outboxRows([deferred]);
    expect(row).to.include({ status: 'queued', attempts: 1 });
    expect(row.lastError).to.match(/^deferred by the SMTP server \(451\)/);
    // Not due before its backoff (15 s; MariaDB may have cut the stored time by under a second).
    clock.advance(13_500);
    expect(await deliverer.deliverDue()).to.equal(0);
    clock.advance(1500);
    expect(await deliverer.deliverDue()).to.equal(1);
    expect((await outboxRows([deferred]))[0]).to.include({ status: 'sent', attempts: 2 });

    await server.setFault({ kind: 'refuse', code: 550 });
    const [refused] = await queue(config, 1, { subject: 'refused' });
    await clock.catchUp([refused]);
    expect(await deliverer.deliverDue()).to.equal(0);
    const [failed] = await outboxRows([refused]);
    expect(failed).to.include({ status: 'failed', attempts: 1 });
    expect(failed.lastError).to.match(/^refused by the SMTP server \(550\)/);
    clock.advance(86_400_000);
    await server.setFault({ kind: 'none' });
    expect(await deliverer.deliverDue(), 'a failed message is not retried by itself').to.equal(0);
    expect(countsBySubject(server)).to.deep.equal({ 'deferred once': 1 });
  });

  it('a server that hangs after DATA: the send times out under the lease, another deliverer keeps off, the retry delivers once', async () => {
    const server = await start({ fault: { kind: 'hang', times: 1 } });
    const config = testConfig(testContext().scratch.url, smtpEnv(server, { SMTP_TIMEOUT_MS: '500' }));
    const since = await outboxMark();
    const [id] = await queue(config, 1, { subject: 'hung once' });
    const clock = await clockAfter([id]);
    const a = await testDeliverer(config, { clock: clock.now, id: 'deliverer-a', since });
    const b = await testDeliverer(config, { clock: clock.now, id: 'deliverer-b', since });
    const first = a.deliverDue();
    await server.waitForRejections(1, 'hang');
    // While a waits on the server, the message is leased to it: b finds nothing due.
    const [held] = await outboxRows([id]);
    expect(held).to.include({ status: 'sending', lockedBy: 'deliverer-a' });
    expect(held.lockedUntil!.getTime()).to.be.closeTo(clock.now() + leaseMs(config), 1000);
    expect(await b.deliverDue()).to.equal(0);
    expect(await first).to.equal(0);
    const [after] = await outboxRows([id]);
    expect(after).to.include({ status: 'queued', attempts: 1, lockedBy: null });
    expect(after.lastError).to.match(/ETIMEDOUT|timeout/i);
    clock.advance(15_000);
    expect(await b.deliverDue()).to.equal(1);
    expect(countsBySubject(server)).to.deep.equal({ 'hung once': 1 });
  });

  it('stop() waits for the message in flight and leaves it recorded, not leased', async () => {
    const server = await start({ fault: { kind: 'hang' } });
    const config = testConfig(testContext().scratch.url, smtpEnv(server, { SMTP_TIMEOUT_MS: '400', OUTBOX_POLL_MS: '50' }));
    const deliverer = await startTestDeliverer(config);
    const [id] = await queue(config, 1, { subject: 'in flight at stop' });
    await server.waitForRejections(1, 'hang');
    expect((await outboxRows([id]))[0].status).to.equal('sending');
    await deliverer.close();
    const [row] = await outboxRows([id]);
    expect(row).to.include({ status: 'queued', attempts: 1, lockedBy: null });
  });

  it('a server that never finishes its answer: the send is abandoned at its budget and its connection closed', async () => {
    const server = await startTricklingServer();
    try {
      const config = testConfig(testContext().scratch.url, {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(server.port),
        SMTP_SECURE: 'none',
        MAIL_FROM: 'Berth <berth@test.invalid>',
        PUBLIC_URL,
        SMTP_TIMEOUT_MS: '500',
      });
      const since = await outboxMark();
      const [id] = await queue(config, 1, { subject: 'trickled' });
      const clock = await clockAfter([id]);
      const deliverer = await testDeliverer(config, { clock: clock.now, since });
      const started = Date.now();
      expect(await deliverer.deliverDue()).to.equal(0);
      expect(Date.now() - started).to.be.at.least(sendBudgetMs(config) - 100);
      // Given up on means stopped: the conversation does not go on behind the row's back.
      await within(server.hungUp, 2000, 'the client hanging up');
      const [row] = await outboxRows([id]);
      expect(row).to.include({ status: 'queued', attempts: 1, lockedBy: null });
      expect(row.lastError).to.match(new RegExp(`^SMTP server unreachable \\(ETIMEDOUT\\): no answer within ${sendBudgetMs(config)} ms; the send was abandoned`));
    } finally {
      await server.close();
    }
  });

  it('some recipients refused while the others accept: sent once, the refusals kept in lastError and logged', async () => {
    const server = await start({ fault: { kind: 'refuse', code: 550, times: 1 } });
    const config = testConfig(testContext().scratch.url, smtpEnv(server));
    const logs = captureLogs();
    const since = await outboxMark();
    const [id] = await queue(config, 1, { to: ['gone@example.org'], cc: ['here@example.org'], subject: 'partly refused' });
    const deliverer = await testDeliverer(config, { since, logger: createLogger('info', logs.stream) });
    expect(await deliverer.deliverDue()).to.equal(1);
    const mail = await server.waitFor((m) => m.subject === 'partly refused');
    expect(mail.to).to.deep.equal(['here@example.org']);
    const [row] = await outboxRows([id]);
    expect(row).to.include({ status: 'sent', attempts: 1, lastError: 'refused for gone@example.org (550)' });
    expect(logs.lines.find((l) => l.msg === 'mail sent, but some recipients were refused')).to.include({ outboxId: id, refused: 'refused for gone@example.org (550)' });
    // Not sent again: the others have it.
    expect(await deliverer.deliverDue()).to.equal(0);
    expect(countsBySubject(server)).to.deep.equal({ 'partly refused': 1 });
  });

  it('"retry now" on a message older than OUTBOX_RETRY_HOURS gives it the whole retry window again', async () => {
    // No SMTP_HOST: every attempt fails, transiently.
    const config = testConfig(testContext().scratch.url, { PUBLIC_URL, OUTBOX_RETRY_HOURS: '24' });
    const since = await outboxMark();
    const [id] = await queue(config, 1, { subject: 'old, retried' });
    const clock = await clockAfter([id]);
    const deliverer = await testDeliverer(config, { clock: clock.now, since });
    clock.advance(25 * 3600_000);
    await deliverer.deliverDue();
    expect((await outboxRows([id]))[0]).to.include({ status: 'failed', attempts: 1 });

    const retried = await retryOutboxMessage(testCommand(), id, new Date(clock.now()));
    expect(retried.retryFrom.getTime()).to.be.closeTo(clock.now(), 1000);
    // (A second on: MariaDB may have rounded the new due time up.)
    clock.advance(1000);
    await deliverer.deliverDue();
    let [row] = await outboxRows([id]);
    expect(row, 'the first attempt after the retry').to.include({ status: 'queued', attempts: 1, lastError: 'SMTP_HOST is not configured' });
    clock.advance(23 * 3600_000);
    await deliverer.deliverDue();
    expect((await outboxRows([id]))[0], '23 h after the retry').to.include({ status: 'queued', attempts: 2 });
    clock.advance(3600_000);
    await deliverer.deliverDue();
    [row] = await outboxRows([id]);
    expect(row, '24 h after the retry').to.include({ status: 'failed', attempts: 3 });
    expect(row.lastError).to.equal('gave up after 3 attempts over 24 h: SMTP_HOST is not configured');
  });

  it('a connection closed mid-message: retried, delivered once', async () => {
    const server = await start({ fault: { kind: 'close', times: 1 } });
    const config = testConfig(testContext().scratch.url, smtpEnv(server));
    const since = await outboxMark();
    const [id] = await queue(config, 1, { subject: 'dropped once' });
    const clock = await clockAfter([id]);
    const deliverer = await testDeliverer(config, { clock: clock.now, since });
    expect(await deliverer.deliverDue()).to.equal(0);
    await server.waitForRejections(1, 'close');
    const [row] = await outboxRows([id]);
    expect(row).to.include({ status: 'queued', attempts: 1 });
    expect(row.lastError).to.match(/unreachable|SMTP error/);
    clock.advance(15_000);
    expect(await deliverer.deliverDue()).to.equal(1);
    expect(countsBySubject(server)).to.deep.equal({ 'dropped once': 1 });
  });

  it('SMTP down for two days (clock advanced in steps): everything delivered once it is back, none twice', async () => {
    const server = await start();
    await server.stopListening();
    const config = testConfig(testContext().scratch.url, smtpEnv(server));
    const since = await outboxMark();
    const tag = `down${Date.now() % 1e6}`;
    const ids = await queue(config, 6, {}, tag);
    const clock = await clockAfter(ids);
    const deliverer = await testDeliverer(config, { clock: clock.now, since });
    // A pass ends at the first "unreachable" (the next message would fail the same way), so each
    // 2-hour step tries one message: the least recently tried, as the backoff is capped at 10 min.
    for (let hour = 0; hour < 48; hour += 2) {
      expect(await deliverer.deliverDue()).to.equal(0);
      clock.advance(2 * 3600_000);
    }
    const waiting = await outboxRows(ids);
    expect(waiting.map((r) => r.status)).to.deep.equal(ids.map(() => 'queued'));
    expect(waiting.map((r) => r.attempts)).to.deep.equal(ids.map(() => 4));
    expect(waiting.every((r) => /^SMTP server unreachable/.test(r.lastError ?? ''))).to.equal(true);
    await server.listen();
    expect(await deliverer.deliverDue()).to.equal(6);
    expect(await deliverer.deliverDue()).to.equal(0);
    expect(countsBySubject(server)).to.deep.equal(Object.fromEntries(ids.map((_id, i) => [`${tag} #${i}`, 1])));
    expect((await outboxRows(ids)).map((r) => r.status)).to.deep.equal(ids.map(() => 'sent'));
  });

  it('two deliverers racing over the same queue send every message exactly once', async () => {
    const server = await start();
    const config = testConfig(testContext().scratch.url, smtpEnv(server));
    const since = await outboxMark();
    const tag = `race${Date.now() % 1e6}`;
    const ids = await queue(config, 24, {}, tag);
    const a = await testDeliverer(config, { id: 'racer-a', since });
    const b = await testDeliverer(config, { id: 'racer-b', since });
    const [sentA, sentB] = await Promise.all([a.deliverDue(), b.deliverDue()]);
    expect(sentA + sentB).to.equal(24);
    expect(countsBySubject(server)).to.deep.equal(Object.fromEntries(ids.map((_id, i) => [`${tag} #${i}`, 1])));
    expect((await outboxRows(ids)).every((r) => r.status === 'sent' && r.attempts === 1)).to.equal(true);
  });

  it('no address, an invalid address, a broken template, an unreadable payload: failed at once with the reason; the rest still goes', async () => {
    const server = await start();
    const config = testConfig(testContext().scratch.url, smtpEnv(server));
    const logs = captureLogs();
    const deliverer = await testDeliverer(config, { logger: createLogger('info', logs.stream) });
    const [noAddress] = await queue(config, 1, { to: [null], forUser: 'nomail-user', subject: 'no address' });
    const [invalid] = await queue(config, 1, { to: ['not an address'], subject: 'invalid' });
    const [badTemplate] = await queue(config, 1, { template: 'does-not-exist', subject: 'bad template' });
    const [unreadable] = await queue(config, 1, { subject: 'unreadable' });
    await testContext().db.models.OutboxMessage.update({ payload: 'v1:garbage' }, { where: { id: unreadable } });
    const [fine] = await queue(config, 1, { subject: 'fine' });
    expect(await deliverer.deliverDue()).to.equal(1);
    const rows = await outboxRows([noAddress, invalid, badTemplate, unreadable, fine]);
    expect(rows.map((r) => r.status)).to.deep.equal(['failed', 'failed', 'failed', 'failed', 'sent']);
    expect(rows[0].lastError).to.equal('no email address for nomail-user');
    expect(rows[1].lastError).to.equal('invalid address: not an address');
    expect(rows[2].lastError).to.match(/^template 'does-not-exist' failed: /);
    expect(rows[3].lastError).to.match(/cannot be decrypted/);
    expect(countsBySubject(server)).to.deep.equal({ fine: 1 });
    // Logged with the outbox id and the reason, never the payload.
    const failedLines = logs.lines.filter((l) => l.msg === 'mail failed');
    expect(failedLines.map((l) => l.outboxId)).to.deep.equal([noAddress, invalid, badTemplate, unreadable]);
    expect(JSON.stringify(logs.lines)).not.to.contain('tester');
  });

  it('SMTP_HOST unset: the message waits (transient), nothing is lost', async () => {
    const config = testConfig(testContext().scratch.url, { PUBLIC_URL });
    const deliverer = await testDeliverer(config);
    const [id] = await queue(config, 1);
    expect(await deliverer.deliverDue()).to.equal(0);
    expect((await outboxRows([id]))[0]).to.include({ status: 'queued', attempts: 1, lastError: 'SMTP_HOST is not configured' });
  });

  it('prunes sent messages older than OUTBOX_KEEP_DAYS, keeps failed ones', async () => {
    const server = await start();
    const config = testConfig(testContext().scratch.url, smtpEnv(server, { OUTBOX_KEEP_DAYS: '1' }));
    const [sent] = await queue(config, 1, { subject: 'old and sent' });
    const [failed] = await queue(config, 1, { to: [], subject: 'old and failed' });
    const clock = await clockAfter([sent, failed]);
    // Scoped to these two rows: pruning two days ahead must not delete other tests' sent mail.
    const ours = { since: sent - 1, scope: { id: [sent, failed] } };
    const deliverer = await testDeliverer(config, { clock: clock.now, ...ours });
    await deliverer.deliverDue();
    expect((await outboxRows([sent, failed])).map((r) => r.status)).to.deep.equal(['sent', 'failed']);
    const later = await testDeliverer(config, { clock: () => clock.now() + 2 * 86_400_000, ...ours });
    await later.deliverDue();
    expect((await outboxRows([sent, failed])).map((r) => r.id)).to.deep.equal([failed]);
  });
});

describe('notify: classifySmtpError', () => {
  it('sorts transient from permanent', () => {
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'ECONNECTION' })).permanent).to.equal(false);
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'EENVELOPE', responseCode: 421 })).permanent).to.equal(false);
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'EENVELOPE', responseCode: 550 })).permanent).to.equal(true);
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'EAUTH', responseCode: 535 })).permanent).to.equal(false);
  });
});
