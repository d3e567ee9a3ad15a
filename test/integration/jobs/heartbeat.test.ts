import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { createSequelize } from '../../../src/lib/db/connect.js';
import { testContext } from '../../support/context.js';
import { insertShellJob, startRunner, startRunnerProcess, waitForJob, type RunnerProcess } from '../../support/runner.js';
import { skewedClock } from '../../support/skewed-clock.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Short heartbeat and threshold for real runner processes; no scheduled sync job in the way. */
const FAST = { JOB_HEARTBEAT_SECONDS: '1', JOB_STALE_SECONDS: '4', SYNC_INTERVAL_MINUTES: '0' };

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** The runner's heartbeatAt as stored, read on a connection of the test's own (never the runner's pool). */
async function storedHeartbeat(observer: Sequelize, runnerId: string): Promise<string | undefined> {
  const rows = await observer.query<{ heartbeatAt: unknown }>('SELECT heartbeatAt FROM JobRunners WHERE id = ?', { replacements: [runnerId], type: QueryTypes.SELECT });
  return rows[0] ? String(rows[0].heartbeatAt) : undefined;
}

describe('heartbeat and recovery', function () {
  this.timeout(120_000);

  it('host clocks 90 s ahead and 90 s behind fail no healthy job, and a runner that stops beating is still found dead (issue 11, item 5)', async () => {
    const { models } = testContext().db;
    const env = { ...FAST, JOB_RUNNER_CONCURRENCY: '1' };
    const ahead = skewedClock(90);
    const behind = skewedClock(-90);
    const runners: RunnerProcess[] = [];
    try {
      // The fake skew is real: a process stamps its log lines with its own clock (read here at once).
      const clockOffset = (r: RunnerProcess) => Date.parse(r.lines.find((l) => l.msg === 'job runner started')!.time) - Date.now();
      runners.push(await startRunnerProcess(env));
      runners.push(await startRunnerProcess({ ...env, ...ahead.env }, { nodeArgs: ahead.nodeArgs }));
      expect(clockOffset(runners[1]), 'ahead').to.be.above(80_000);
      runners.push(await startRunnerProcess({ ...env, ...behind.env }, { nodeArgs: behind.nodeArgs }));
      expect(clockOffset(runners[2]), 'behind').to.be.below(-80_000);

      // One job each (concurrency 1), each lasting three dead-runner thresholds.
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) ids.push(await insertShellJob('sleep 12; echo done'));
      await waitUntil('each runner runs one of the jobs', async () => {
        const jobs = await models.Job.findAll({ where: { id: ids, status: 'running' } });
        return new Set(jobs.map((j) => j.lockedBy)).size === 3;
      });
      for (const id of ids) {
        const job = await waitForJob(id, 60_000);
        expect(job.status, `job ${id}: ${job.error}`).to.equal('success');
      }
      expect(runners.flatMap((r) => r.lines).filter((l) => l.msg === 'job of a dead runner marked failed')).to.deep.equal([]);

      // A runner that really stops beating is found dead by the skewed ones, and not before the threshold.
      const id = await insertShellJob('sleep 60');
      const owner = await waitUntil('the job is claimed', async () => (await waitForJob(id, 10_000, (j) => j.status === 'running')).lockedBy);
      const victim = runners.find((r) => r.runnerId === owner)!;
      await victim.stop('SIGKILL');
      const failed = await waitForJob(id, 30_000);
      expect(failed.status).to.equal('failure');
      expect(failed.error).to.match(new RegExp(`^runner ${owner} stopped heartbeating \\(last heartbeat `));
      const lastBeat = new Date(/last heartbeat (\S+)\)/.exec(failed.error!)![1]);
      // Both times are the database's: a skewed watcher cannot have cut the threshold short.
      expect(failed.finishedAt!.getTime() - lastBeat.getTime()).to.be.at.least(4000);
    } finally {
      for (const r of runners) if (r.proc.exitCode === null && r.proc.signalCode === null) await r.stop();
    }
  });

  // MariaDB only (defined, not skipped, on that run): SQLite's single writer lock is shared by every
  // connection, so the heartbeat shares the runner's connection there (src/jobs/heartbeat.ts says why).
  (process.env.BERTH_TEST_DATABASE !== 'sqlite' ? it : () => {})('a runner whose connection pool is saturated still heartbeats on its own connection and is not declared dead (issue 11, item 7)', async () => {
    const { db, config } = testContext();
    const runner = await startRunner({ heartbeatSeconds: 1, staleSeconds: 3 });
    const observer = createSequelize(config.database, { poolMax: 1 });
    let watcher: RunnerProcess | undefined;
    try {
      const id = await insertShellJob('sleep 120');
      await waitForJob(id, 10_000, (j) => j.status === 'running' && j.lockedBy === runner.id);
      // Another runner, quick to declare this one dead.
      watcher = await startRunnerProcess({ ...FAST, JOB_STALE_SECONDS: '3' });

      // Saturate the pool the runner's models (output, claims, watch loop, and the old heartbeat) use.
      const seen = new Set<string>();
      let busy = true;
      const observing = (async () => {
        while (busy) {
          const beat = await storedHeartbeat(observer, runner.id);
          if (beat) seen.add(beat);
          await sleep(200);
        }
      })();
      const started = Date.now();
      await Promise.all(Array.from({ length: db.sequelize.config.pool!.max }, () => db.sequelize.query('SELECT SLEEP(8)')));
      const busyMs = Date.now() - started;
      // One more of the watcher's checks after the pool frees up, to see what it decided meanwhile.
      await sleep(2000);
      busy = false;
      await observing;

      expect(busyMs, 'the pool was held longer than the dead-runner threshold').to.be.at.least(6000);
      expect(seen.size, `heartbeats stored while the pool was held: ${[...seen].join(', ')}`).to.be.at.least(3);
      const job = await db.models.Job.findByPk(id);
      expect(job!.status, String(job!.error)).to.equal('running');
      expect(job!.lockedBy).to.equal(runner.id);
      expect(watcher.lines.filter((l) => l.msg === 'job of a dead runner marked failed')).to.deep.equal([]);
    } finally {
      await watcher?.stop();
      await runner.close();
      await observer.close();
    }
  });
});
