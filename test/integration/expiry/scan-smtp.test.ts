import { expect } from 'chai';
import { runExpiryScan } from '../../../src/expiry/scan.js';
import { createLogger } from '../../../src/lib/logger.js';
import { OutboxDeliverer } from '../../../src/notify/deliverer.js';
import { createContainer, createVm } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';
import { digestItems, digestsOf, expiryConfig, farDay, kolkataEight, plusDays, remindersOnly, scanDeps, uniqueName } from './scan-support.js';

const DAY_MS = 86_400_000;

describe('expiry scan: SMTP down for two days', function () {
  this.timeout(120_000);
  let sink: SmtpSink;
  before(remindersOnly);
  beforeEach(async () => (sink = await startSmtpServer()));
  afterEach(async () => sink.close());

  it('keeps the reminders and delivers each once when SMTP is back', async () => {
    const config = expiryConfig({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(sink.port), SMTP_SECURE: 'none' });
    const deps = scanDeps(config);
    const start = farDay();
    const alice = (await createUser({ username: uniqueName('alice'), email: `${uniqueName('alice')}@example.org` })).user;
    const bob = (await createUser({ username: uniqueName('bob'), email: `${uniqueName('bob')}@example.org` })).user;
    await createContainer({ username: alice.username, expiresAt: plusDays(start, 1) });
    await createVm({ username: alice.username, expiresAt: plusDays(start, 2) });
    await createContainer({ username: bob.username, expiresAt: plusDays(start, 8) });

    // Only this test's mail (the database is shared). The deliverer's clock runs with the scans: day d of the simulation is d days from now (the
    // outbox's retry window counts from when a message was queued, which is now).
    let day = 0;
    const deliverer = new OutboxDeliverer({ models: deps.models, sequelize: deps.sequelize, config, logger: createLogger('silent'), clock: () => Date.now() + day * DAY_MS, scope: { forUser: [alice.username, bob.username] } });
    const mine = async () => digestsOf([alice.username, bob.username]);

    await sink.stopListening();
    for (day = 0; day < 2; day++) {
      await runExpiryScan(deps, { at: kolkataEight(plusDays(start, day)) });
      // With the server down a pass tries one message (the longest waiting) and ends: four passes go round the queue.
      for (let pass = 0; pass < 4; pass++) await deliverer.deliverDue();
    }
    const waiting = await mine();
    // Day 0: alice (1d, 7d), day 1: alice (today, 1d), bob (7d).
    expect(waiting.map((m) => [m.forUser, m.status])).to.deep.equal([
      [alice.username, 'queued'],
      [alice.username, 'queued'],
      [bob.username, 'queued'],
    ]);
    for (const m of waiting) expect(m.lastError).to.match(/unreachable/);
    expect(waiting[0]!.attempts, 'retried on both days').to.be.at.least(2);
    expect(sink.messages).to.deep.equal([]);

    await sink.listen();
    day = 2;
    const third = await runExpiryScan(deps, { at: kolkataEight(plusDays(start, 2)) });
    expect(third.reminders.map((r) => r.username), 'day 2: alice\'s VM expires today').to.deep.equal([alice.username]);
    await deliverer.deliverDue();
    day = 3;
    await deliverer.deliverDue();

    const all = await mine();
    expect(all.map((m) => m.status)).to.deep.equal(['sent', 'sent', 'sent', 'sent']);
    for (const user of [alice, bob]) {
      const received = sink.messages.filter((m) => m.to.includes(user.email!));
      const queued = all.filter((m) => m.forUser === user.username);
      expect(received, user.username).to.have.length(queued.length);
      expect(new Set(received.map((m) => m.messageId)).size, 'no mail twice').to.equal(queued.length);
    }
    // Every item's notices reached the owner: what the digests list is what the log says was sent.
    const notices = all.flatMap((m) => digestItems(config, m).map((i) => `${m.forUser} ${i.name} ${i.notice}`));
    expect(notices).to.have.length(new Set(notices).size).and.to.have.length(6);
  });
});
