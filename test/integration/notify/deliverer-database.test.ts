// The outbox deliverer when the database fails under it: a failed pass is logged and the next poll
// tries again (no crash, nothing lost), and a message the SMTP server accepted while the database
// would not take the "sent" update is recorded on the next pass (or when the deliverer stops) instead of
// being sent again.
// The failures are injected by wrapping the OutboxMessage model (the database itself stays up for
// the rest of the run).
import { expect } from 'chai';
import { Op } from 'sequelize';
import type { Models } from '../../../models/index.js';
import { createLogger } from '../../../src/lib/logger.js';
import { OutboxDeliverer } from '../../../src/notify/deliverer.js';
import { queueMail } from '../../../src/notify/outbox.js';
import { testConfig, testContext } from '../../support/context.js';
import { outboxMark, outboxRows } from '../../support/outbox.js';
import { track } from '../../support/resources.js';
import { captureLogs } from '../../support/runner.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The run's models with OutboxMessage's `method` failing while `fails(args)` says so. */
function failing(method: 'findAll' | 'update', fails: (args: unknown[]) => boolean): Models {
  const { models } = testContext().db;
  const model = new Proxy(models.OutboxMessage, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === method) {
        return (...args: unknown[]) => (fails(args) ? Promise.reject(new Error('connect ECONNREFUSED (the database is down)')) : (value as (...a: unknown[]) => unknown).apply(target, args));
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ...models, OutboxMessage: model } as Models;
}

describe('notify: the deliverer when the database fails', function () {
  this.timeout(30_000);
  let smtp: SmtpSink;
  beforeEach(async () => {
    smtp = await startSmtpServer();
  });
  afterEach(async () => {
    await smtp.close();
  });

  const configFor = () =>
    testConfig(testContext().scratch.url, { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_SECURE: 'none', PUBLIC_URL: 'https://berth.example.org', OUTBOX_POLL_MS: '50' });

  async function queueOne(subject: string): Promise<number> {
    const { db } = testContext();
    const row = await db.sequelize.transaction((t) => queueMail({ models: db.models, config: configFor() }, { to: ['db@example.org'], subject, template: 'test-email', category: 'test-email', data: { sender: 'db test' } }, t));
    return row.id;
  }

  it('a pass that fails is logged and retried by the next poll; the message goes when the database is back', async () => {
    const since = await outboxMark();
    let outage = 3;
    const logs = captureLogs();
    const deliverer = new OutboxDeliverer({
      models: failing('findAll', () => outage-- > 0),
      sequelize: testContext().db.sequelize,
      config: configFor(),
      logger: createLogger('info', logs.stream),
      scope: { id: { [Op.gt]: since } },
    });
    const id = await queueOne('after an outage');
    deliverer.start();
    const stop = track('outbox deliverer (database test)', () => deliverer.stop());
    try {
      await smtp.waitFor((m) => m.subject === 'after an outage');
      await until('marked sent', async () => (await outboxRows([id]))[0].status === 'sent');
      expect(logs.lines.filter((l) => l.msg === 'outbox pass failed; will retry')).to.have.length(3);
    } finally {
      await stop();
    }
  });

  it('accepted by SMTP but the "sent" update failed: recorded on the next pass, never sent again', async () => {
    const since = await outboxMark();
    let refuseSent = true;
    const deliverer = new OutboxDeliverer({
      models: failing('update', ([values]) => {
        const marksSent = (values as { status?: string }).status === 'sent';
        if (marksSent && refuseSent) return !(refuseSent = false);
        return false;
      }),
      sequelize: testContext().db.sequelize,
      config: configFor(),
      logger: createLogger('silent'),
      scope: { id: { [Op.gt]: since } },
    });
    const id = await queueOne('sent while the database was away');
    const failed = await deliverer.deliverDue().then(() => null, (err: Error) => err);
    expect(failed?.message).to.match(/database is down/);
    await smtp.waitFor((m) => m.subject === 'sent while the database was away');
    expect((await outboxRows([id]))[0].status, 'still leased to this deliverer').to.equal('sending');
    expect(await deliverer.deliverDue()).to.equal(0);
    const [row] = await outboxRows([id]);
    expect(row).to.include({ status: 'sent', attempts: 1 });
    expect(smtp.messages.filter((m) => m.subject === 'sent while the database was away')).to.have.length(1);
  });

  /** A deliverer whose "sent" updates fail while `refuse()` says so. */
  function delivererRefusingSent(since: number, refuse: () => boolean, logger = createLogger('silent')) {
    return new OutboxDeliverer({
      models: failing('update', ([values]) => (values as { status?: string }).status === 'sent' && refuse()),
      sequelize: testContext().db.sequelize,
      config: configFor(),
      logger,
      scope: { id: { [Op.gt]: since } },
    });
  }

  it('stop() records a message sent while the database was away, so it is not sent again after the lease', async () => {
    const since = await outboxMark();
    let refusals = 1;
    const deliverer = delivererRefusingSent(since, () => refusals-- > 0);
    const id = await queueOne('sent just before stopping');
    const failed = await deliverer.deliverDue().then(() => null, (err: Error) => err);
    expect(failed?.message).to.match(/database is down/);
    expect((await outboxRows([id]))[0].status).to.equal('sending');
    await deliverer.stop();
    expect((await outboxRows([id]))[0]).to.include({ status: 'sent', attempts: 1, lockedBy: null });
    expect(smtp.messages.filter((m) => m.subject === 'sent just before stopping')).to.have.length(1);
  });

  it('stop() with the database still away: logs that the message may be sent again, and returns', async () => {
    const since = await outboxMark();
    const logs = captureLogs();
    const deliverer = delivererRefusingSent(since, () => true, createLogger('info', logs.stream));
    const id = await queueOne('sent, database gone for good');
    try {
      await deliverer.deliverDue().then(
        () => expect.fail('the pass should fail'),
        () => undefined,
      );
      await deliverer.stop();
      const line = logs.lines.find((l) => l.msg === 'mail sent but still not recorded at stop; it may be sent again once its lease runs out');
      expect(line).to.include({ outboxId: id });
      expect(line!.reason).to.match(/database is down/);
      expect((await outboxRows([id]))[0].status, 'left leased, for the lease to resolve').to.equal('sending');
    } finally {
      // It did go out: leave no leased row for a later test's runner to send again.
      await testContext().db.models.OutboxMessage.update({ status: 'sent', sentAt: new Date(), lockedBy: null, lockedUntil: null }, { where: { id } });
    }
  });
});
