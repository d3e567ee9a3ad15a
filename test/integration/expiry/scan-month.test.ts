import { expect } from 'chai';
import type { Container, VirtualMachine } from '../../../models/index.js';
import { runExpiryScan } from '../../../src/expiry/scan.js';
import { OutboxDeliverer } from '../../../src/notify/deliverer.js';
import { createLogger } from '../../../src/lib/logger.js';
import { createContainer, createVm } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';
import { digestItems, digestsOf, expectedNotices, expiryConfig, farDay, kolkataEight, logsOf, plusDays, remindersOnly, scanDeps, uniqueName } from './scan-support.js';

describe('expiry scan: a simulated month', function () {
  this.timeout(180_000);
  let sink: SmtpSink;
  before(remindersOnly);
  beforeEach(async () => (sink = await startSmtpServer()));
  afterEach(async () => sink.close());

  it('sends exactly the right notices, one digest per owner per day, each mail to SMTP once', async () => {
    const config = expiryConfig({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(sink.port), SMTP_SECURE: 'none' });
    const start = farDay();
    const LAST_SCAN = 36;
    // Three owners with an address, one without, and one with no Berth account at all.
    const withEmail = await Promise.all(['alice', 'bob', 'carol'].map(async (n) => (await createUser({ username: uniqueName(n), email: `${uniqueName(n)}@example.org`, displayName: `${n} <b>` })).user));
    const noEmail = (await createUser({ username: uniqueName('dave'), email: null })).user.username;
    const noAccount = uniqueName('ghost');
    const owners = [...withEmail.map((u) => u.username), noEmail, noAccount];

    // 40 items on expiry dates spread over the month (several share a day and an owner), both kinds.
    const items: Array<{ row: Container | VirtualMachine; itemType: 'container' | 'vm'; owner: string; offset: number; name: string }> = [];
    for (let i = 0; i < 40; i++) {
      const offset = 1 + ((i * 7) % 34);
      const owner = owners[i % owners.length]!;
      const expiresAt = plusDays(start, offset);
      if (i % 2) {
        const row = await createVm({ username: owner, expiresAt, status: 'running' });
        items.push({ row, itemType: 'vm', owner, offset, name: row.name });
      } else {
        const row = await createContainer({ username: owner, expiresAt, status: 'running' });
        items.push({ row, itemType: 'container', owner, offset, name: row.hostname });
      }
    }
    // Never reminded: nobody's, still being created, waiting for approval, being deleted.
    const ignored = [
      await createContainer({ username: null, expiresAt: plusDays(start, 3) }),
      await createContainer({ username: owners[0], expiresAt: plusDays(start, 3), status: 'provisioning' }),
      await createContainer({ username: owners[0], expiresAt: plusDays(start, 4), status: 'pending-approval' }),
      await createContainer({ username: owners[1], expiresAt: plusDays(start, 5), status: 'deleting' }),
    ];

    const deps = scanDeps(config);
    const summaries = [];
    for (let d = 0; d <= LAST_SCAN; d++) summaries.push(await runExpiryScan(deps, { at: kolkataEight(plusDays(start, d)) }));
    expect(summaries.map((s) => s.scanDay)).to.deep.equal(Array.from({ length: LAST_SCAN + 1 }, (_, d) => plusDays(start, d)));

    // The log: exactly the expected (item, notice, expiry date, scan day) rows.
    const refs = items.map((i) => ({ itemType: i.itemType, itemId: i.row.id }));
    const logs = await logsOf(refs);
    expect(logs.length, 'a month of notices').to.be.greaterThan(100);
    const key = (itemType: string, itemId: number, notice: string, expiresOn: string, scanDay: string) => `${itemType}#${itemId} ${notice} ${expiresOn} @${scanDay}`;
    const expected = items.flatMap((i) => expectedNotices(i.offset, LAST_SCAN).map((n) => ({ ...n, item: i })));
    expect(logs.map((l) => key(l.itemType, l.itemId, l.notice, String(l.expiresOn), String(l.scanDay))).sort()).to.deep.equal(
      expected.map((e) => key(e.item.itemType, e.item.row.id, e.notice, plusDays(start, e.item.offset), plusDays(start, e.scanOffset))).sort(),
    );
    expect(await logsOf(ignored.map((c) => ({ itemType: 'container' as const, itemId: c.id }))), 'ignored items').to.deep.equal([]);

    // One digest per owner per day with a notice, listing exactly that day's items of that owner.
    const perDigest = new Map<string, string[]>();
    for (const e of expected) {
      const k = `${e.item.owner} ${plusDays(start, e.scanOffset)}`;
      perDigest.set(k, [...(perDigest.get(k) ?? []), `${e.item.name} ${e.notice}`]);
    }
    const digests = await digestsOf(owners);
    expect(digests.map((m) => `${m.forUser} ${m.dedupeKey}`).sort()).to.deep.equal([...perDigest.keys()].map((k) => `${k.split(' ')[0]} expiry-reminder:${k.replace(' ', ':')}`).sort());
    for (const m of digests) {
      const day = m.dedupeKey!.split(':').pop()!;
      expect(digestItems(config, m).map((i) => `${i.name} ${i.notice}`).sort(), `digest ${m.dedupeKey}`).to.deep.equal(perDigest.get(`${m.forUser} ${day}`)!.sort());
      const ownLogs = logs.filter((l) => l.outboxId === m.id);
      expect(ownLogs.map((l) => l.username), 'each notice logged against the mail that carries it').to.have.length(digestItems(config, m).length).and.satisfy((u: string[]) => u.every((x) => x === m.forUser));
    }
    expect(summaries.flatMap((s) => s.reminders.map((r) => r.outboxId)).sort(), 'the summaries name every digest').to.deep.equal(digests.map((m) => m.id).sort());

    // Delivery: every digest reaches the SMTP server once; those without an address fail with the reason.
    const deliverer = new OutboxDeliverer({ models: deps.models, sequelize: deps.sequelize, config, logger: createLogger('silent') });
    await deliverer.deliverDue();
    await deliverer.deliverDue();
    const byOwner = new Map(withEmail.map((u) => [u.email!, u.username]));
    for (const [address, username] of byOwner) {
      const received = sink.messages.filter((m) => m.to.includes(address));
      const queued = digests.filter((m) => m.forUser === username);
      expect(received, username).to.have.length(queued.length);
      expect(new Set(received.map((m) => m.messageId)).size, 'no message twice').to.equal(queued.length);
    }
    // The mail says it all, escaped in HTML and plain in text: names, dates, links, the extend link.
    const alice = withEmail[0]!;
    const sample = digests.find((m) => m.forUser === alice.username)!;
    const mail = sink.messages.find((m) => m.to.includes(alice.email!) && m.text.includes(digestItems(config, sample)[0]!.extendUrl.slice(-20)))!;
    expect(mail, 'the sample digest arrived').to.not.equal(undefined);
    expect(mail.text).to.contain('alice <b>,').and.to.contain('alice &lt;b&gt;,');
    for (const item of digestItems(config, sample)) {
      expect(item.url).to.match(/^https:\/\/berth\.example\.org\/(containers|vms)\/\d+$/);
      expect(item.extendUrl).to.match(/^https:\/\/berth\.example\.org\/expiry\/link\?token=[A-Za-z0-9_-]+$/);
      expect(mail.text).to.contain(item.name).and.to.contain(item.url).and.to.contain(item.extendUrl).and.to.contain(item.expiresOn);
    }
    expect(mail.text).to.contain('Extend by 30 days').and.to.contain('Nothing is done to it automatically');
    for (const username of [noEmail, noAccount]) {
      for (const m of await digestsOf([username])) expect([m.status, m.lastError]).to.deep.equal(['failed', `no email address for ${username}`]);
    }
  });
});
