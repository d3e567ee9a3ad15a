import { expect } from 'chai';
import { testContext } from '../../support/context.js';
import { groupAlive, insertShellJob, jobOutput, startRunner, startRunnerProcess, waitForJob, waitForOutput } from '../../support/runner.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';
import { failJobOutputWrites } from '../../support/faults.js';

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe('job runner processes: crash, shutdown, database outage', function () {
  this.timeout(60_000);

  it('kill -9 of a runner mid-job: the job ends failure with a reason within the heartbeat threshold, and its process group is gone', async () => {
    const dead = await startRunnerProcess({ JOB_STALE_SECONDS: '3' });
    const id = await insertShellJob('echo pgid $$; sleep 300');
    const pgid = Number((await waitForOutput(id, /pgid (\d+)/))[1]);
    expect(groupAlive(pgid)).to.equal(true);
    dead.proc.kill('SIGKILL');
    await dead.stop('SIGKILL');
    const killedAt = Date.now();
    // The reaper sidecar saw its pipe close and killed the job's process group.
    expect(await waitUntil(() => !groupAlive(pgid), 3000), 'job process group gone').to.equal(true);
    const noticer = await startRunner({ heartbeatSeconds: 1, staleSeconds: 3 });
    const job = await waitForJob(id, 10_000);
    const took = Date.now() - killedAt;
    await noticer.close();
    expect(job.status).to.equal('failure');
    expect(job.error, job.error ?? '').to.match(/^runner .+ stopped heartbeating \(last heartbeat .*no heartbeat for over 3 s.*not re-run$/);
    expect(took).to.be.below(3000 + 2 * 1000 + 1500);
    expect(await jobOutput(id)).to.contain('pgid').and.contain('stopped heartbeating');
  });

  it('SIGTERM: the runner cancels its running jobs, records them cancelled, kills their process groups and exits', async () => {
    // Another runner's row, as a runner killed by an earlier test leaves until a reaper removes it: the
    // check below is about this runner's own row, so it must not count that one (it once made CI flaky).
    const { JobRunner } = testContext().db.models;
    const now = new Date();
    await JobRunner.create({ id: 'left-by-an-earlier-test', hostname: 'elsewhere', pid: 1, concurrency: 1, startedAt: now, heartbeatAt: now });
    const runner = await startRunnerProcess({ JOB_CANCEL_GRACE_SECONDS: '1' });
    const id = await insertShellJob("echo pgid $$; (trap '' TERM; sleep 300) & sleep 300; wait");
    const pgid = Number((await waitForOutput(id, /pgid (\d+)/))[1]);
    const t0 = Date.now();
    const code = await runner.stop('SIGTERM');
    expect(code).to.equal(0);
    expect(Date.now() - t0).to.be.below(10_000);
    const job = (await testContext().db.models.Job.findByPk(id))!;
    expect(job.status).to.equal('cancelled');
    expect(job.error).to.match(/shut down \(SIGTERM\)/);
    expect(await waitUntil(() => !groupAlive(pgid), 2000)).to.equal(true);
    // Its own row: a runner killed by an earlier test may still be registered until a reaper removes it.
    expect(await JobRunner.count({ where: { id: runner.runnerId } })).to.equal(0);
    // (A runner may have reaped it already, once its heartbeat went stale.)
    await JobRunner.destroy({ where: { id: 'left-by-an-earlier-test' } });
  });

  it('the database going away mid-job: no output line lost, the job finishes', async () => {
    const { scratch, db } = testContext();
    const expected = Array.from({ length: 80 }, (_, i) => `line ${i + 1}\n`).join('');
    const command = 'for i in $(seq 1 80); do echo line $i; sleep 0.05; done';
    if (scratch.dialect === 'mysql') {
      // A real runner process talks to MariaDB through a TCP proxy that the test cuts for 3 s.
      const target = new URL(scratch.url);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 3306));
      const viaProxy = new URL(scratch.url);
      viaProxy.port = String(proxy.port);
      const runner = await startRunnerProcess({ DATABASE_URL: viaProxy.toString(), JOB_STALE_SECONDS: '30', JOB_OUTPUT_FLUSH_MS: '20' });
      const id = await insertShellJob(command);
      await waitForOutput(id, /line 10\n/);
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 3000));
      await proxy.restore();
      const job = await waitForJob(id, 30_000);
      await runner.stop();
      await proxy.close();
      expect(job.status, job.error ?? '').to.equal('success');
      expect(await jobOutput(id, 'stdout')).to.equal(expected);
      expect(runner.lines.some((l) => /database unavailable|retrying/.test(l.msg))).to.equal(true);
    } else {
      // SQLite has no connection to cut: the same path is exercised by making every write fail for 2 s.
      const runner = await startRunner();
      const id = await insertShellJob(command);
      await waitForOutput(id, /line 10\n/);
      const outage = failJobOutputWrites(db.sequelize);
      try {
        await new Promise((r) => setTimeout(r, 2000));
        expect(runner.health().database).to.equal('retrying');
        expect(runner.health().bufferedOutputBytes).to.be.greaterThan(0);
      } finally {
        outage.restore();
      }
      const job = await waitForJob(id, 20_000);
      await runner.close();
      expect(outage.failures()).to.be.greaterThan(1);
      expect(job.status, job.error ?? '').to.equal('success');
      expect(await jobOutput(id, 'stdout')).to.equal(expected);
      expect(runner.health().database).to.equal('ok');
    }
  });
});
