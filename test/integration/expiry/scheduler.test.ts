import crypto from 'node:crypto';
import { expect } from 'chai';
import type { Config } from '../../../config/index.js';
import type { Job } from '../../../models/index.js';
import { Auditor } from '../../../src/audit/index.js';
import { ExpiryScheduler } from '../../../src/expiry/scheduler.js';
import { createLogger } from '../../../src/lib/logger.js';
import { createContainer } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { testContext } from '../../support/context.js';
import { until } from '../../support/nginx.js';
import { jobOutput, startRunner, waitForJob } from '../../support/runner.js';
import { digestsOf, expiryConfig, farDay, plusDays, remindersOnly, sunday, uniqueName } from './scan-support.js';

describe('expiry scan schedule', function () {
  this.timeout(60_000);
  const jobs: number[] = [];
  before(remindersOnly);
  afterEach(async () => {
    // No runner of a later test should pick these up.
    await testContext().db.models.Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: { id: jobs.splice(0), status: 'pending' } });
  });

  function scheduler(config: Config, clock: () => number, checkEveryMs?: number) {
    const { db } = testContext();
    return new ExpiryScheduler({ models: db.models, sequelize: db.sequelize, auditor: new Auditor(db.models, null), logger: createLogger('silent'), config, clock, checkEveryMs });
  }
  const keep = (job: Job | null) => {
    if (job) jobs.push(job.id);
    return job;
  };
  const runsOf = (day: string) => testContext().db.models.ScheduledRun.findAll({ where: { name: 'expiry-scan', slot: day } });

  it('enqueues one scan per day when runners race, audited as Berth, pinned to its moment', async () => {
    const { models } = testContext().db;
    const config = expiryConfig();
    const day = farDay();
    const now = Date.parse(`${day}T08:00:00+05:30`);
    const a = scheduler(config, () => now);
    const b = scheduler(config, () => now);
    const won = (await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()])).map(keep).filter((j) => j !== null);
    expect(won).to.have.length(1);
    const job = won[0]!;
    expect(job).to.include({ task: 'expiry.scan', createdBy: null, subjectType: 'expiry', status: 'pending' });
    expect(JSON.parse(job.params!)).to.deep.equal({ at: new Date(now).toISOString() });
    expect((await runsOf(day)).map((r) => r.jobId)).to.deep.equal([job.id]);
    const audit = await models.AuditEvent.findAll({ where: { action: 'job.enqueue', objectId: String(job.id) } });
    expect(audit.map((e) => e.actor)).to.deep.equal([null]);
    expect(keep(await a.tick()), 'later the same day').to.equal(null);
  });

  it('enqueues the day\'s scan again when it failed (the rest of the day\'s notices cannot wait), at most every 15 minutes, by one runner', async () => {
    const { models } = testContext().db;
    const config = expiryConfig();
    const day = farDay();
    let now = Date.parse(`${day}T08:00:00+05:30`);
    const a = scheduler(config, () => now);
    const b = scheduler(config, () => now);
    const first = keep(await a.tick())!;
    // Its runner died mid-scan: the heartbeat marked it failed.
    await first.update({ status: 'failure', error: 'runner died', finishedAt: new Date(now) });
    now += 5 * 60_000;
    expect(keep(await a.tick()), 'not within 15 minutes of the failure').to.equal(null);
    now += 11 * 60_000;
    const again = (await Promise.all([a.tick(), b.tick()])).map(keep).filter((j) => j !== null);
    expect(again).to.have.length(1);
    expect(again[0]!.id).to.not.equal(first.id);
    expect((await runsOf(day)).map((r) => r.jobId)).to.deep.equal([again[0]!.id]);
    // A scan that is pending, running or succeeded is not repeated.
    expect(keep(await b.tick())).to.equal(null);
    await models.Job.update({ status: 'success', finishedAt: new Date(now) }, { where: { id: again[0]!.id } });
    now += 60 * 60_000;
    expect(keep(await a.tick())).to.equal(null);
  });

  // Moments written with each zone's offset, so the boundary is checked without the code under test.
  const year = () => 2400 + crypto.randomInt(0, 500);
  const cases = () => {
    const y = year();
    const berlinSpring = sunday(y, 3, -1);
    const newYorkFall = sunday(y + 1, 11, 1);
    const kiritimati = plusDays(`${y + 2}-06-15`, crypto.randomInt(0, 100));
    const pagoPago = plusDays(`${y + 3}-06-15`, crypto.randomInt(0, 100));
    return [
      // +14: 08:00 local is 18:00 the previous day in UTC.
      { tz: 'Pacific/Kiritimati', day: kiritimati, early: `${kiritimati}T07:59:00+14:00`, on: `${kiritimati}T08:00:00+14:00` },
      // -11: 08:00 local is 19:00 UTC the same day.
      { tz: 'Pacific/Pago_Pago', day: pagoPago, early: `${pagoPago}T07:59:00-11:00`, on: `${pagoPago}T08:00:00-11:00` },
      // The spring switch day: 07:59 CEST would be 08:59 in last night's CET.
      { tz: 'Europe/Berlin', day: berlinSpring, early: `${berlinSpring}T07:59:00+02:00`, on: `${berlinSpring}T08:00:00+02:00` },
      // The fall switch day: 07:30 EST would be 08:30 in last night's EDT.
      { tz: 'America/New_York', day: newYorkFall, early: `${newYorkFall}T07:30:00-05:00`, on: `${newYorkFall}T08:00:00-05:00` },
    ];
  };
  for (const c of cases()) {
    it(`waits for 08:00 in ${c.tz} (on ${c.day})`, async () => {
      let now = Date.parse(c.early);
      const s = scheduler(expiryConfig({ TZ: c.tz }), () => now);
      expect(keep(await s.tick()), 'a minute early').to.equal(null);
      // The slot is the local day, whatever the UTC date of the moment.
      now = Date.parse(c.on);
      const job = keep(await s.tick());
      expect(job).to.not.equal(null);
      expect((await runsOf(c.day)).map((r) => r.jobId)).to.deep.equal([job!.id]);
      expect(JSON.parse(job!.params!)).to.deep.equal({ at: new Date(now).toISOString() });
      now += 15 * 3_600_000;
      expect(keep(await s.tick()), 'the rest of the day').to.equal(null);
    });
  }

  it('enqueues at once when the runner starts after the scan time (down at 08:00, up at 11:00)', async () => {
    const config = expiryConfig();
    const day = farDay();
    const now = Date.parse(`${day}T11:00:00+05:30`);
    // The timer would first fire in an hour: only the check at start can enqueue.
    const s = scheduler(config, () => now, 3_600_000);
    s.start();
    try {
      await until(async () => (await runsOf(day)).length > 0, 10_000, () => `no scan enqueued for ${day}`);
    } finally {
      await s.stop();
    }
    const [run] = await runsOf(day);
    expect(run!.jobId).to.be.a('number');
    jobs.push(run!.jobId!);
    // Up before 08:00 the next day: nothing yet.
    const early = scheduler(config, () => Date.parse(`${plusDays(day, 1)}T07:00:00+05:30`), 3_600_000);
    expect(keep(await early.tick())).to.equal(null);
  });

  it('runs in the job runner: the scan queues the reminders and prints them in the job output', async () => {
    const config = expiryConfig();
    const day = farDay();
    const { user } = await createUser({ username: uniqueName('jobs'), email: 'jobs@example.org' });
    const ct = await createContainer({ username: user.username, expiresAt: plusDays(day, 7) });
    const job = keep(await scheduler(config, () => Date.parse(`${day}T08:05:00+05:30`)).tick())!;
    const runner = await startRunner({ config });
    try {
      const done = await waitForJob(job.id);
      expect(done.status, await jobOutput(job.id)).to.equal('success');
    } finally {
      await runner.close();
    }
    const [digest] = await digestsOf([user.username]);
    expect(digest, 'the reminder was queued').to.not.equal(undefined);
    const output = await jobOutput(job.id, 'stdout');
    expect(output).to.contain(`reminder to ${user.username}: 1 item [${ct.hostname} (container, 7d, ${plusDays(day, 7)})] → outbox #${digest!.id}`);
    expect(output).to.contain(`Expiry scan for ${day} (Asia/Kolkata): `);
  });
});
