import { expect } from 'chai';
import type { Auditor } from '../../../src/audit/index.js';
import { runExpiryScan, type ScanSummary } from '../../../src/expiry/scan.js';
import { createContainer, createVm } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { testContext } from '../../support/context.js';
import { digestItems, digestsOf, expiryConfig, farDay, pastDay, kolkataEight, logsOf, plusDays, remindersOnly, scanDeps, uniqueName } from './scan-support.js';

/** A user with an address and the config/deps of a scan in Asia/Kolkata. */
async function owner(prefix = 'owner') {
  return (await createUser({ username: uniqueName(prefix), email: `${uniqueName(prefix)}@example.org` })).user;
}

const noticeRows = async (refs: Array<{ itemType: 'container' | 'vm'; itemId: number }>) =>
  (await logsOf(refs)).map((l) => `${l.itemType}#${l.itemId} ${l.notice} ${l.expiresOn} @${l.scanDay}`).sort();

describe('expiry scan', function () {
  this.timeout(60_000);
  before(remindersOnly);

  it('catches up after a late scan: a missed 7-day notice goes out, unless a later notice applies', async () => {
    const config = expiryConfig();
    const deps = scanDeps(config);
    const start = farDay();
    const alice = await owner('alice');
    const eightOut = await createContainer({ username: alice.username, expiresAt: plusDays(start, 8) });
    const fiveOut = await createVm({ username: alice.username, expiresAt: plusDays(start, 5) });
    const refs = [{ itemType: 'container' as const, itemId: eightOut.id }, { itemType: 'vm' as const, itemId: fiveOut.id }];

    await runExpiryScan(deps, { at: kolkataEight(start) });
    // No scan for three days (the runners were down), then one on day 4.
    const late = await runExpiryScan(deps, { at: kolkataEight(plusDays(start, 4)) });
    expect(late.reminders).to.deep.equal([{ username: alice.username, items: 2, outboxId: late.reminders[0]!.outboxId }]);
    // Down again on day 5 (fiveOut's last day): its 'today' is not sent late on day 6.
    await runExpiryScan(deps, { at: kolkataEight(plusDays(start, 6)) });
    expect(await noticeRows(refs)).to.deep.equal(
      [
        `vm#${fiveOut.id} 7d ${plusDays(start, 5)} @${start}`,
        `container#${eightOut.id} 7d ${plusDays(start, 8)} @${plusDays(start, 4)}`,
        `vm#${fiveOut.id} 1d ${plusDays(start, 5)} @${plusDays(start, 4)}`,
      ].sort(),
    );
  });

  it('an item first seen with one day left gets only the 1-day notice, then today', async () => {
    const deps = scanDeps(expiryConfig());
    const start = farDay();
    const bob = await owner('bob');
    const ct = await createContainer({ username: bob.username, expiresAt: plusDays(start, 1) });
    await runExpiryScan(deps, { at: kolkataEight(start) });
    await runExpiryScan(deps, { at: kolkataEight(plusDays(start, 1)) });
    expect(await noticeRows([{ itemType: 'container', itemId: ct.id }])).to.deep.equal([`container#${ct.id} 1d ${plusDays(start, 1)} @${start}`, `container#${ct.id} today ${plusDays(start, 1)} @${plusDays(start, 1)}`].sort());
  });

  it('a changed expiry date starts a new series, even on the same day', async () => {
    const config = expiryConfig();
    const deps = scanDeps(config);
    const start = farDay();
    const carol = await owner('carol');
    const ct = await createContainer({ username: carol.username, expiresAt: plusDays(start, 3) });
    const ref = [{ itemType: 'container' as const, itemId: ct.id }];
    await runExpiryScan(deps, { at: kolkataEight(start) });

    // Extended to day 10: nothing until seven days before the new date, then the series again.
    await ct.update({ expiresAt: plusDays(start, 10) });
    await runExpiryScan(deps, { at: kolkataEight(plusDays(start, 1)) });
    await runExpiryScan(deps, { at: kolkataEight(plusDays(start, 3)) });
    await runExpiryScan(deps, { at: kolkataEight(plusDays(start, 9)) });
    // Shortened on day 9 to that very day, and scanned again: the 'today' of the new date, in a second mail.
    await ct.update({ expiresAt: plusDays(start, 9) });
    const again = await runExpiryScan(deps, { at: kolkataEight(plusDays(start, 9)) });
    expect(again.reminders.map((r) => r.items)).to.deep.equal([1]);

    expect(await noticeRows(ref)).to.deep.equal(
      [
        `container#${ct.id} 7d ${plusDays(start, 3)} @${start}`,
        `container#${ct.id} 7d ${plusDays(start, 10)} @${plusDays(start, 3)}`,
        `container#${ct.id} 1d ${plusDays(start, 10)} @${plusDays(start, 9)}`,
        `container#${ct.id} today ${plusDays(start, 9)} @${plusDays(start, 9)}`,
      ].sort(),
    );
    const digests = await digestsOf([carol.username]);
    const day9 = `expiry-reminder:${carol.username}:${plusDays(start, 9)}`;
    expect(digests.map((d) => d.dedupeKey)).to.deep.equal([`expiry-reminder:${carol.username}:${start}`, `expiry-reminder:${carol.username}:${plusDays(start, 3)}`, day9, `${day9}:2`]);
    expect(digests.map((d) => digestItems(config, d).map((i) => `${i.notice} ${i.expiresOn}`))).to.deep.equal([
      [`7d ${plusDays(start, 3)}`],
      [`7d ${plusDays(start, 10)}`],
      [`1d ${plusDays(start, 10)}`],
      [`today ${plusDays(start, 9)}`],
    ]);
  });

  it('two scanners at once send each notice once, in one mail per owner', async () => {
    const config = expiryConfig();
    const start = farDay();
    const owners = await Promise.all([owner('p'), owner('q'), owner('r')]);
    const refs = [];
    for (const [i, o] of owners.entries()) {
      for (let k = 0; k < 3; k++) refs.push({ itemType: 'container' as const, itemId: (await createContainer({ username: o.username, expiresAt: plusDays(start, 1 + i + k * 3) })).id });
    }
    // Three scans at once on the pool's connections (on MariaDB each transaction has its own).
    const at = kolkataEight(start);
    const results = await Promise.all([runExpiryScan(scanDeps(config), { at }), runExpiryScan(scanDeps(config), { at }), runExpiryScan(scanDeps(config), { at })]);
    const mine = (s: ScanSummary) => s.reminders.filter((r) => owners.some((o) => o.username === r.username));
    expect(results.flatMap(mine).map((r) => r.username).sort(), 'each owner reminded by one scanner').to.deep.equal(owners.map((o) => o.username).sort());
    const logs = await logsOf(refs);
    expect(logs.map((l) => `${l.itemId} ${l.notice}`)).to.have.length(new Set(logs.map((l) => `${l.itemId} ${l.notice}`)).size);
    // Items at 1..9 days: all but the 8- and 9-day ones are due (7d or 1d).
    expect(logs).to.have.length(7);
    const digests = await digestsOf(owners.map((o) => o.username));
    expect(digests.map((d) => d.forUser).sort()).to.deep.equal(owners.map((o) => o.username).sort());
    expect(logs.every((l) => digests.some((d) => d.id === l.outboxId && d.forUser === l.username))).to.equal(true);
  });

  it('a scan that dies midway is finished by the next run, without duplicates', async () => {
    const config = expiryConfig();
    const deps = scanDeps(config);
    const start = farDay();
    // Usernames that sort in this order, so the scan meets them in this order.
    const prefix = uniqueName('crash');
    const owners = await Promise.all(['a', 'b', 'c', 'd'].map(async (s) => (await createUser({ username: `${prefix}-${s}`, email: `${prefix}-${s}@example.org` })).user));
    const refs = [];
    for (const o of owners) refs.push({ itemType: 'vm' as const, itemId: (await createVm({ username: o.username, expiresAt: plusDays(start, 7) })).id });

    // The process "dies" right after the second owner's reminder committed.
    let printed = 0;
    const crash = (line: string) => {
      if (line.startsWith(`reminder to ${prefix}`) && ++printed === 2) throw new Error('killed');
    };
    const at = kolkataEight(start);
    let error: Error | undefined;
    await runExpiryScan(deps, { at, print: crash }).catch((err: Error) => (error = err));
    expect(error?.message).to.equal('killed');
    expect((await digestsOf(owners.map((o) => o.username))).map((d) => d.forUser)).to.deep.equal([owners[0]!.username, owners[1]!.username]);

    const lines: string[] = [];
    await runExpiryScan(deps, { at, print: (l) => lines.push(l) });
    expect(lines.filter((l) => l.startsWith(`reminder to ${prefix}`)).map((l) => l.split(':')[0])).to.deep.equal([`reminder to ${owners[2]!.username}`, `reminder to ${owners[3]!.username}`]);
    expect((await digestsOf(owners.map((o) => o.username))).map((d) => d.forUser)).to.deep.equal(owners.map((o) => o.username));
    expect(await logsOf(refs)).to.have.length(4);
  });

  it('one owner\'s failure does not hold back the others; the scan fails and the next one sends it', async () => {
    const config = expiryConfig();
    const start = farDay();
    const prefix = uniqueName('fault');
    const [first, second] = await Promise.all(['a', 'b'].map(async (s) => (await createUser({ username: `${prefix}-${s}`, email: `${prefix}-${s}@example.org` })).user));
    for (const o of [first!, second!]) await createContainer({ username: o.username, expiresAt: plusDays(start, 3) });
    const deps = scanDeps(config);
    // The audit write of the first owner's digest fails (a database error inside its transaction).
    const record = async (...args: Parameters<Auditor['record']>) => {
      if (args[1].objectLabel === first!.username) throw new Error('disk full');
      return deps.auditor.record(...args);
    };
    const failing = { ...deps, auditor: { record } as unknown as Auditor };
    let error: Error | undefined;
    await runExpiryScan(failing, { at: kolkataEight(start) }).catch((err: Error) => (error = err));
    expect(error?.message).to.equal(`reminders for 1 owner(s) could not be queued (the next scan retries them): ${first!.username}: disk full`);
    expect((await digestsOf([first!.username, second!.username])).map((d) => d.forUser)).to.deep.equal([second!.username]);

    await runExpiryScan(deps, { at: kolkataEight(plusDays(start, 1)) });
    expect((await digestsOf([first!.username, second!.username])).map((d) => d.forUser)).to.deep.equal([second!.username, first!.username]);
  });

  it('a dry run decides and prints, and writes nothing', async () => {
    const deps = scanDeps(expiryConfig());
    const start = farDay();
    const dan = await owner('dan');
    const vm = await createVm({ username: dan.username, expiresAt: plusDays(start, 0) });
    const { models } = testContext().db;
    const before = { links: await models.ExtendLink.count(), audit: await models.AuditEvent.count() };
    const lines: string[] = [];
    const summary = await runExpiryScan(deps, { at: kolkataEight(start), dryRun: true, print: (l) => lines.push(l) });
    expect(summary.reminders).to.deep.equal([{ username: dan.username, items: 1, outboxId: null }]);
    expect(lines).to.deep.equal([`reminder to ${dan.username}: 1 item [${vm.name} (vm, today, ${start})] → dry run, not queued`]);
    expect(await logsOf([{ itemType: 'vm', itemId: vm.id }])).to.deep.equal([]);
    expect(await digestsOf([dan.username])).to.deep.equal([]);
    expect({ links: await models.ExtendLink.count(), audit: await models.AuditEvent.count() }).to.deep.equal(before);
  });

  it('puts admins in copy when configured, and audits each digest as Berth', async () => {
    const config = expiryConfig({ EXPIRY_CC_ADMINS: 'true', ADMIN_EMAILS: 'ops@example.org,lead@example.org' });
    const start = farDay();
    const erin = await owner('erin');
    await createContainer({ username: erin.username, expiresAt: plusDays(start, 2) });
    const summary = await runExpiryScan(scanDeps(config), { at: kolkataEight(start) });
    const [digest] = await digestsOf([erin.username]);
    expect(JSON.parse(digest!.recipients)).to.deep.equal([erin.email]);
    expect(JSON.parse(digest!.cc!)).to.deep.equal(['ops@example.org', 'lead@example.org']);
    expect(digest!.subject).to.match(/expires in 2 days$/);
    expect(summary.reminders).to.deep.equal([{ username: erin.username, items: 1, outboxId: digest!.id }]);
    const audit = await testContext().db.models.AuditEvent.findAll({ where: { action: 'expiry.remind', objectId: String(digest!.id) } });
    expect(audit.map((a) => [a.actor, a.objectType, a.objectLabel])).to.deep.equal([[null, 'outboxMessage', erin.username]]);
  });

  it('says in each reminder what the expiry action will do, with its dates', async () => {
    const config = expiryConfig();
    const { models } = testContext().db;
    // Long past: with the action on, the scan must find no other test's record expired.
    const start = pastDay();
    const fay = await owner('fay');
    const managed = await createContainer({ username: fay.username, expiresAt: plusDays(start, 7), managed: true });
    const vm = await createVm({ username: fay.username, expiresAt: plusDays(start, 7) });
    try {
      await models.ExpiryPolicy.upsert({ kind: 'container', action: 'delete', graceDays: 5, updatedBy: null });
      await models.ExpiryPolicy.upsert({ kind: 'vm', action: 'stop', graceDays: 7, updatedBy: null });
      await runExpiryScan(scanDeps(config), { at: kolkataEight(start) });
    } finally {
      await remindersOnly();
    }
    const [digest] = await digestsOf([fay.username]);
    const actions = Object.fromEntries(digestItems(config, digest!).map((i) => [i.name, i.action]));
    expect(actions).to.deep.equal({
      [managed.hostname]: `It will be stopped on ${plusDays(start, 8)}, and deleted 5 days later, on ${plusDays(start, 13)}.`,
      [vm.name]: `It will be stopped on ${plusDays(start, 8)}.`,
    });
  });
});
