import { expect } from 'chai';
import request from 'supertest';
import type { Job } from '../../../models/index.js';
import { claimJobs } from '../../../src/jobs/claim.js';
import { createJob, createJobRunner } from '../../factories/jobs.js';
import { createAdminUser } from '../../factories/users.js';
import { failJobOutputWrites } from '../../support/faults.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';
import { groupAlive, insertShellJob, jobOutput, startRunner, startRunnerProcess, waitForJob, waitForOutput } from '../../support/runner.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** A runner's heartbeat made to fail (its database "is away" for the heartbeat only). */
function silenceHeartbeat(runner: object): () => void {
  const heartbeat = (runner as { heartbeat: { beat(n: number): Promise<void> } }).heartbeat;
  const beat = heartbeat.beat;
  heartbeat.beat = async () => {
    throw new Error('ECONNREFUSED: simulated outage');
  };
  return () => (heartbeat.beat = beat);
}

/** A real runner process whose database connection goes through a proxy the test can cut (MariaDB). */
async function runnerBehindProxy(env: Record<string, string>) {
  const target = new URL(testContext().scratch.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 3306));
  const viaProxy = new URL(testContext().scratch.url);
  viaProxy.port = String(proxy.port);
  const runner = await startRunnerProcess({ DATABASE_URL: viaProxy.toString(), ...env });
  return { proxy, runner };
}

describe('job runner under faults', function () {
  this.timeout(60_000);

  it('a runner stopped while a heartbeat tick is under way never beats or recovers jobs again (it once failed a healthy job in CI)', async () => {
    const { models } = testContext().db;
    const runner = await startRunner({ heartbeatSeconds: 1, staleSeconds: 2 });
    const heartbeat = (runner as unknown as { heartbeat: { beat(n: number): Promise<void>; recoverStale(): Promise<number[]> } }).heartbeat;
    const beat = heartbeat.beat.bind(heartbeat);
    let release!: () => void;
    let beatsAfterStop = 0;
    let stopped = false;
    const entered = new Promise<void>((enter) => {
      let first = true;
      heartbeat.beat = async (n) => {
        if (stopped) beatsAfterStop++;
        if (first) {
          first = false;
          enter();
          await new Promise<void>((r) => (release = r));
        }
        return beat(n);
      };
    });
    await entered;
    const stopping = runner.close();
    await sleep(100);
    stopped = true;
    release();
    await stopping;
    // A job of a runner that looks dead: a stopped runner must leave it to the living.
    const old = new Date(Date.now() - 60_000);
    await createJobRunner({ id: 'quiet-runner', startedAt: old, heartbeatAt: old });
    const id = (await createJob({ status: 'running', lockedBy: 'quiet-runner', lockedAt: old, startedAt: old })).id;
    await sleep(3000);
    expect(beatsAfterStop, 'heartbeats after stop').to.equal(0);
    expect(await models.JobRunner.count({ where: { id: runner.id } })).to.equal(0);
    expect((await models.Job.findByPk(id))!.status).to.equal('running');
    await models.Job.destroy({ where: { id } });
    await models.JobRunner.destroy({ where: { id: 'quiet-runner' } });
  });
});

describe('job runner under faults: cancel racing a claim', function () {
  this.timeout(120_000);
  const fixture = useApp();

  it('a cancel answered 202 always takes effect: the job never starts, or its runner is asked to stop it (60 cancels timed against claims)', async () => {
    const { db } = testContext();
    const built = await createAdminUser();
    const agent = request.agent(fixture.app);
    await login(agent, built.user.username, built.password);
    const csrf = await csrfToken(agent, '/');
    const dropped: string[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 60; i++) {
      const id = await insertShellJob('true');
      ids.push(id);
      // The claim starts a little after the cancel's first read, at a different point each round.
      const claim = new Promise<Job[]>((resolve, reject) => setTimeout(() => claimJobs(db.sequelize, db.models, 'racing-claimer', 1).then(resolve, reject), i % 6));
      const [res, claimed] = await Promise.all([agent.post(`/jobs/${id}/cancel`).set('X-CSRF-Token', csrf).set('Accept', 'application/json'), claim]);
      const job = (await db.models.Job.findByPk(id))!;
      if (res.status === 202) {
        // Either it was cancelled before it started, or the runner that holds it will see the request.
        const honoured = job.status === 'cancelled' ? !claimed.some((j) => j.id === id) : job.status === 'running' && job.cancelRequestedAt !== null;
        if (!honoured) dropped.push(`job ${id}: answered 202 ${JSON.stringify(res.body)}, row is ${job.status}, cancelRequestedAt ${job.cancelRequestedAt}`);
        expect(res.body.status).to.equal(job.status);
      } else {
        dropped.push(`job ${id}: answered ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    await db.models.Job.destroy({ where: { id: ids } });
    expect(dropped, dropped.join('\n')).to.deep.equal([]);
  });
});

describe('job runner under faults: claims and hand-backs', function () {
  this.timeout(60_000);

  /** Makes the next claim transaction that claimed something commit and then fail, as if its answer was lost. */
  function loseNextClaimAnswer(): { restore(): void; lost: () => number } {
    const { sequelize } = testContext().db;
    const original = sequelize.transaction;
    let lost = 0;
    sequelize.transaction = async function (this: unknown, ...args: unknown[]) {
      const result = await (original as (...a: unknown[]) => Promise<unknown>).apply(sequelize, args);
      if (!lost && Array.isArray(result) && result.length) {
        lost++;
        throw new Error('Connection lost: The server closed the connection.');
      }
      return result;
    } as typeof sequelize.transaction;
    return { restore: () => (sequelize.transaction = original), lost: () => lost };
  }

  it("a claim whose answer was lost: the runner finds the jobs locked by itself that it is not running, and runs them within a heartbeat period", async () => {
    const fault = loseNextClaimAnswer();
    let runner;
    try {
      runner = await startRunner({ heartbeatSeconds: 1, staleSeconds: 30, pollMs: 50 });
      const id = await insertShellJob('echo ran once');
      const job = await waitForJob(id, 8000).catch(async (err) => {
        const row = (await testContext().db.models.Job.findByPk(id))!;
        throw new Error(`${err.message}: status ${row.status}, lockedBy ${row.lockedBy} (runner ${runner!.id})`);
      });
      expect(fault.lost()).to.equal(1);
      expect(job.status).to.equal('success');
      expect(job.lockedBy).to.equal(runner.id);
      expect(await jobOutput(id, 'stdout')).to.equal('ran once\n');
    } finally {
      fault.restore();
      await runner?.close();
    }
  });

  it('a stopping runner whose hand-back of unstarted jobs fails at first retries it: the jobs are pending again and another runner runs them', async () => {
    const { db } = testContext();
    const { sequelize } = db;
    // Hold the claim's answer until stop() has begun, so the jobs are claimed by a stopping runner.
    const original = sequelize.transaction;
    let releaseClaim!: () => void;
    const claimHeld = new Promise<void>((r) => (releaseClaim = r));
    let claimedWhileHeld = 0;
    sequelize.transaction = async function (...args: unknown[]) {
      const result = await (original as (...a: unknown[]) => Promise<unknown>).apply(sequelize, args);
      if (Array.isArray(result) && result.length && !claimedWhileHeld) {
        claimedWhileHeld = result.length;
        await claimHeld;
      }
      return result;
    } as typeof sequelize.transaction;
    const update = db.models.Job.update;
    let handBackFailures = 0;
    db.models.Job.update = async function (this: unknown, values: Record<string, unknown>, options: unknown) {
      if (values.status === 'pending' && handBackFailures < 2) {
        handBackFailures++;
        throw new Error('ETIMEDOUT: simulated database hiccup');
      }
      return (update as (...a: unknown[]) => unknown).call(db.models.Job, values, options);
    } as typeof update;
    const ids: number[] = [];
    try {
      const runner = await startRunner({ pollMs: 50 });
      ids.push(await insertShellJob('echo one'), await insertShellJob('echo two'));
      while (!claimedWhileHeld) await new Promise((r) => setTimeout(r, 20));
      const stopping = runner.close();
      await new Promise((r) => setTimeout(r, 100));
      releaseClaim();
      await stopping;
      expect(handBackFailures).to.equal(2);
      const rows = await db.models.Job.findAll({ where: { id: ids }, order: [['id', 'ASC']] });
      expect(rows.map((j) => [j.status, j.lockedBy])).to.deep.equal([['pending', null], ['pending', null]]);
    } finally {
      sequelize.transaction = original;
      db.models.Job.update = update;
    }
    const next = await startRunner();
    const done = await Promise.all(ids.map((id) => waitForJob(id)));
    await next.close();
    expect(done.map((j) => j.status)).to.deep.equal(['success', 'success']);
  });
});

describe('job runner under faults: a runner cut off from the database', function () {
  this.timeout(90_000);
  const isMaria = () => testContext().scratch.dialect === 'mysql';

  it('cannot heartbeat for longer than the threshold: it stops its own jobs, and records why once it can', async () => {
    const command = 'echo pgid $$; sleep 300';
    if (isMaria()) {
      const { proxy, runner } = await runnerBehindProxy({ JOB_HEARTBEAT_SECONDS: '1', JOB_STALE_SECONDS: '3', JOB_CANCEL_GRACE_SECONDS: '1' });
      const id = await insertShellJob(command);
      const pgid = Number((await waitForOutput(id, /pgid (\d+)/))[1]);
      await proxy.cut();
      // No other runner is alive to fail it: the runner itself must stop the job while it is cut off.
      await until(() => !groupAlive(pgid), 20_000, 'the cut-off runner stops its job');
      await proxy.restore();
      const job = await waitForJob(id, 30_000);
      await runner.stop();
      await proxy.close();
      expect(job.status).to.equal('failure');
      expect(job.error).to.match(/could not reach the database for over 3 s/);
    } else {
      const runner = await startRunner({ heartbeatSeconds: 1, staleSeconds: 3, cancelGraceSeconds: 1 });
      const id = await insertShellJob(command);
      const pgid = Number((await waitForOutput(id, /pgid (\d+)/))[1]);
      const restore = silenceHeartbeat(runner);
      try {
        await until(() => !groupAlive(pgid), 20_000, 'the silenced runner stops its job');
      } finally {
        restore();
      }
      const job = await waitForJob(id, 20_000);
      await runner.close();
      expect(job.status).to.equal('failure');
      expect(job.error).to.match(/could not reach the database for over 3 s/);
    }
  });

  it("cut off past the threshold while another runner fails its job: every stored line stays, in order, and nothing is written after the other runner's note", async () => {
    const { db } = testContext();
    const command = 'echo pgid $$; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo line $i; sleep 0.005; done';
    let id: number;
    let pgid: number;
    if (isMaria()) {
      // The runner's own threshold is long (it does not stop itself); its peer's is short.
      const { proxy, runner } = await runnerBehindProxy({ JOB_HEARTBEAT_SECONDS: '1', JOB_STALE_SECONDS: '60', JOB_OUTPUT_FLUSH_MS: '20' });
      id = await insertShellJob(command);
      pgid = Number((await waitForOutput(id, /pgid (\d+)/))[1]);
      await waitForOutput(id, /line 50\n/);
      await proxy.cut();
      const peer = await startRunner({ heartbeatSeconds: 1, staleSeconds: 2 });
      await waitForJob(id, 20_000);
      await sleep(500);
      await proxy.restore();
      await until(() => !groupAlive(pgid), 20_000, 'the runner kills the job it lost');
      await sleep(1500);
      await runner.stop();
      await peer.close();
      await proxy.close();
    } else {
      const runner = await startRunner({ heartbeatSeconds: 1, staleSeconds: 60, outputFlushMs: 20 });
      id = await insertShellJob(command);
      pgid = Number((await waitForOutput(id, /pgid (\d+)/))[1]);
      await waitForOutput(id, /line 50\n/);
      const restoreBeat = silenceHeartbeat(runner);
      const outage = failJobOutputWrites(db.sequelize);
      let peer;
      try {
        peer = await startRunner({ heartbeatSeconds: 1, staleSeconds: 2 });
        await waitForJob(id, 20_000);
        await sleep(500);
      } finally {
        outage.restore();
        restoreBeat();
      }
      await until(() => !groupAlive(pgid), 20_000, 'the runner kills the job it lost');
      await sleep(1500);
      await runner.close();
      await peer.close();
    }
    const job = (await db.models.Job.findByPk(id))!;
    expect(job.status).to.equal('failure');
    expect(job.error).to.match(/stopped heartbeating/);
    const rows = await db.models.JobOutput.findAll({ where: { jobId: id }, order: [['seq', 'ASC']], raw: true });
    const noteAt = rows.findIndex((r) => r.stream === 'system' && /stopped heartbeating/.test(r.output ?? ''));
    expect(noteAt, 'the recovering runner\'s note').to.be.greaterThan(0);
    expect(rows.slice(noteAt + 1).map((r) => `${r.seq} ${r.stream}: ${(r.output ?? '').slice(0, 40)}`), 'rows after the note').to.deep.equal([]);
    expect(rows.map((r) => r.seq), 'seqs without gaps').to.deep.equal(rows.map((_, i) => i + 1));
    const stdout = rows.slice(0, noteAt).filter((r) => r.stream === 'stdout').map((r) => r.output).join('');
    const lines = stdout.split('\n').filter(Boolean).slice(1);
    expect(lines.length).to.be.at.least(50);
    expect(lines, "the stored lines are the job's first lines, none missing").to.deep.equal(lines.map((_, i) => `line ${i + 1}`));
  });
});
