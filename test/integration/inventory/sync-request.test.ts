// One sync at a time (issue 16): two syncs at once could write an older reading over a newer one, so
// requesting a sync ("Sync now", the scheduler) returns the sync already pending or running instead
// of enqueuing another. In a database of its own: the run's database may hold other files' syncs.
import { expect } from 'chai';
import { initModels } from '../../../models/index.js';
import { Auditor } from '../../../src/audit/index.js';
import { openDatabase, type Db } from '../../../src/database.js';
import { requestInventorySyncJob, SYNC_REQUEST_LOCK } from '../../../src/jobs/enqueue-inventory-sync.js';
import { SyncScheduler } from '../../../src/jobs/scheduler.js';
import { SYNC_TASK } from '../../../src/jobs/tasks/inventory-sync.js';
import { createLogger } from '../../../src/lib/logger.js';
import { testConfig, testContext } from '../../support/context.js';
import { createScratchDatabase, withFreshDatabase } from '../../support/databases.js';
import { captureLogs } from '../../support/runner.js';

describe('inventory: one sync at a time', function () {
  this.timeout(60_000);
  /** A "Sync now" press: the command's transaction around requestInventorySyncJob (src/inventory/drift-actions.ts). */
  const press = (db: Db, username: string) => db.sequelize.transaction((t) => requestInventorySyncJob({ models: db.models, auditor: new Auditor(db.models, null) }, { username }, t));
  const syncJobs = (db: Db) => db.models.Job.findAll({ where: { task: SYNC_TASK }, order: [['id', 'ASC']] });

  it('two "Sync now" requests at once make one job, audited once; the second gets that job', async () => {
    await withFreshDatabase(async (db) => {
      const [pa, pb] = await Promise.all([press(db, 'alice'), press(db, 'bob')]);
      expect([pa.existing, pb.existing].sort()).to.deep.equal([false, true]);
      const [a, b] = [pa.job, pb.job];
      expect(a.id).to.equal(b.id);
      const jobs = await syncJobs(db);
      expect(jobs.map((j) => j.id)).to.deep.equal([a.id]);
      expect(await db.models.AuditEvent.count({ where: { action: 'job.enqueue', objectId: String(a.id) } })).to.equal(1);

      // Says which: the second request of a running sync is told it exists.
      await db.models.Job.update({ status: 'running', startedAt: new Date() }, { where: { id: a.id } });
      const again = await press(db, 'carol');
      expect(again).to.deep.include({ existing: true });
      expect(again.job.id).to.equal(a.id);

      // Once it has ended, the next request enqueues a new sync.
      await db.models.Job.update({ status: 'success', finishedAt: new Date() }, { where: { id: a.id } });
      const next = await press(db, 'carol');
      expect(next.existing).to.equal(false);
      expect(next.job.id).not.to.equal(a.id);
      expect(next.job).to.include({ status: 'pending', createdBy: 'carol' });
    });
  });

  it('the scheduler claims its slot but reuses a sync that is still pending', async () => {
    await withFreshDatabase(async (db) => {
      let now = Date.UTC(2300, 0, 1);
      const logs = captureLogs();
      const scheduler = new SyncScheduler({ models: db.models, sequelize: db.sequelize, auditor: new Auditor(db.models, null), logger: createLogger('info', logs.stream), intervalMinutes: 60, clock: () => now });
      const [first, pressed] = await Promise.all([scheduler.tick(), press(db, 'alice')]);
      expect(first!.id).to.equal(pressed.job.id);
      now += 60 * 60_000;
      const later = await scheduler.tick();
      expect(later!.id, 'the next slot, the sync still pending').to.equal(first!.id);
      expect((await syncJobs(db)).map((j) => j.id)).to.deep.equal([first!.id]);
      // Both slots are recorded, each pointing at the sync that serves it; the log says which enqueued.
      const runs = await db.models.ScheduledRun.findAll({ where: { name: SYNC_TASK }, order: [['slot', 'ASC']] });
      expect(runs.map((r) => r.jobId)).to.deep.equal([first!.id, first!.id]);
      const said = logs.lines.filter((l) => /scheduled inventory sync/.test(l.msg)).map((l) => l.msg);
      expect(said.at(-1)).to.equal(`scheduled inventory sync not enqueued: one is already pending (job ${first!.id})`);
      expect(said).to.have.length(2);
    });
  });

  it('needs no second connection: with DB_POOL_MAX=1 a request is answered at once', async () => {
    const scratch = await createScratchDatabase();
    const db = await openDatabase(testConfig(scratch.url, { DB_POOL_MAX: '1' }));
    try {
      const started = Date.now();
      const first = await press(db, 'alice');
      const second = await press(db, 'bob');
      expect(Date.now() - started, 'not waiting out the pool\'s acquire timeout (10 s)').to.be.lessThan(5000);
      expect([first.existing, second.existing]).to.deep.equal([false, true]);
      expect(second.job.id).to.equal(first.job.id);
    } finally {
      await db.close();
      await scratch.drop();
      initModels(testContext().db.sequelize);
    }
  });

  it('the lock row comes with the migrations, and is put back if it was deleted', async () => {
    await withFreshDatabase(async (db) => {
      const lockRows = () => db.models.ScheduledRun.findAll({ where: { ...SYNC_REQUEST_LOCK } });
      expect(await lockRows()).to.have.length(1);
      const first = await press(db, 'alice');
      expect(await lockRows(), 'used, not added to').to.have.length(1);
      await db.models.ScheduledRun.destroy({ where: { ...SYNC_REQUEST_LOCK } });
      const again = await press(db, 'bob');
      expect(again).to.deep.include({ existing: true });
      expect(again.job.id).to.equal(first.job.id);
      // SQLite takes turns by its IMMEDIATE transactions and never reads the row.
      expect(await lockRows()).to.have.length(db.sequelize.getDialect() === 'sqlite' ? 0 : 1);
    });
  });

  it('a request sees a sync enqueued after its transaction first read (no stale snapshot)', async () => {
    await withFreshDatabase(async (db) => {
      if (db.sequelize.getDialect() === 'sqlite') {
        // IMMEDIATE: a second request cannot even begin until the first commits, and then sees its job.
        let second: Promise<Awaited<ReturnType<typeof press>>> | undefined;
        const first = await db.sequelize.transaction(async (t) => {
          await db.models.Job.count({ transaction: t });
          second = press(db, 'bob');
          return requestInventorySyncJob({ models: db.models, auditor: new Auditor(db.models, null) }, { username: 'alice' }, t);
        });
        const other = await second!;
        expect([first.existing, other.existing]).to.deep.equal([false, true]);
        expect(other.job.id).to.equal(first.job.id);
        return;
      }
      // MariaDB, REPEATABLE READ: this transaction's first plain read fixes its snapshot before
      // another request commits a sync; the request must still see that sync (a locking read).
      const seen = await db.sequelize.transaction(async (t) => {
        expect(await db.models.Job.count({ where: { task: SYNC_TASK }, transaction: t })).to.equal(0);
        const other = await press(db, 'bob');
        expect(other.existing).to.equal(false);
        const mine = await requestInventorySyncJob({ models: db.models, auditor: new Auditor(db.models, null) }, { username: 'alice' }, t);
        return { other, mine };
      });
      expect(seen.mine).to.deep.include({ existing: true });
      expect(seen.mine.job.id).to.equal(seen.other.job.id);
      expect((await syncJobs(db)).map((j) => j.id)).to.deep.equal([seen.other.job.id]);
    });
  });
});
