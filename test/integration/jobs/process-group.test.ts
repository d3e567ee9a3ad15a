import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { testContext } from '../../support/context.js';
import { groupAlive, insertShellJob, jobOutput, startRunner, startRunnerProcess, waitForJob, waitForOutput } from '../../support/runner.js';

async function waitUntil(check: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}

/** Live (not zombie) processes whose command line contains `text`. */
function processesMentioning(text: string): string[] {
  const ps = spawnSync('ps', ['-e', '-o', 'stat=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => line.includes(text) && !line.trim().startsWith('Z'));
}

describe('job process groups: grace period and the reaper', function () {
  this.timeout(90_000);
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pg-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a cancelled job: a child that cleans up on SIGTERM gets the grace period, although its /bin/sh leader exits at once', async () => {
    const runner = await startRunner({ cancelGraceSeconds: 5 });
    const marker = path.join(dir, 'cleaned-up');
    // The background child traps TERM, takes a second to clean up, then leaves a marker and a line.
    const id = await insertShellJob(
      `echo pgid $$; (trap 'sleep 1; echo done > ${marker}; echo cleanup finished; exit 0' TERM; echo child ready; while :; do sleep 0.1; done) & wait`,
    );
    const pgid = Number((await waitForOutput(id, /pgid (\d+)[\s\S]*child ready/))[1]);
    await testContext().db.models.Job.update({ cancelRequestedAt: new Date(), error: 'cancelled by test' }, { where: { id } });
    const job = await waitForJob(id);
    // Checked before anything else: the job is recorded as ended only once its group is gone.
    const cleanedUp = fs.existsSync(marker);
    const aliveWhenRecorded = groupAlive(pgid);
    await runner.close();
    expect(job.status).to.equal('cancelled');
    expect(job.error).to.equal('cancelled by test');
    expect(cleanedUp, 'the child finished its SIGTERM cleanup').to.equal(true);
    expect(aliveWhenRecorded, 'process group gone when the job was recorded').to.equal(false);
    expect(await jobOutput(id, 'stdout')).to.contain('cleanup finished');
  });

  it('a cancelled job: a child that ignores SIGTERM is SIGKILLed after the grace period, and the job ends cancelled', async () => {
    const graceSeconds = 3;
    const runner = await startRunner({ cancelGraceSeconds: graceSeconds });
    const ticks = path.join(dir, 'ticks');
    const id = await insertShellJob(`echo pgid $$; (trap '' TERM; while :; do date +%s%N >> ${ticks}; sleep 0.1; done) & wait`);
    const pgid = Number((await waitForOutput(id, /pgid (\d+)/))[1]);
    const cancelledAt = Date.now();
    await testContext().db.models.Job.update({ cancelRequestedAt: new Date(), error: 'cancelled by test' }, { where: { id } });
    const job = await waitForJob(id);
    const endedAfterMs = Date.now() - cancelledAt;
    const aliveWhenRecorded = groupAlive(pgid);
    await runner.close();
    expect(job.status).to.equal('cancelled');
    expect(aliveWhenRecorded, 'process group gone when the job was recorded').to.equal(false);
    // A lower bound only: the SIGKILL cannot come before the grace period has run out.
    expect(endedAfterMs).to.be.at.least(graceSeconds * 1000);
    const lastTick = Number(fs.readFileSync(ticks, 'utf8').trim().split('\n').pop()) / 1e6;
    // Half the grace: the child ticks every 0.1 s, but a busy machine may delay a tick.
    expect(lastTick - cancelledAt, 'the child kept running into the grace period').to.be.at.least((graceSeconds * 1000) / 2);
  });

  it('kill -9 of a runner right after it spawned a job: the job process group is killed, not orphaned', async () => {
    const { models } = testContext().db;
    // A preload in the real runner process that SIGKILLs the runner the moment spawn() returns the
    // job's child: the gap in which the group used to be unknown to the reaper, hit every time.
    const hook = path.join(dir, 'kill-after-spawn.mjs');
    fs.writeFileSync(
      hook,
      `import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
const spawn = childProcess.spawn;
childProcess.spawn = function (...args) {
  const child = spawn.apply(this, args);
  if (JSON.stringify(args).includes(${JSON.stringify(dir)})) process.kill(process.pid, 'SIGKILL');
  return child;
};
syncBuiltinESMExports();
`,
    );
    const runner = await startRunnerProcess({ NODE_OPTIONS: `--import=${pathToFileURL(hook).href}`, JOB_STALE_SECONDS: '30' });
    const reaperPid = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(runner.proc.pid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes('berth-reaper') || l.includes(' -e '))
      .map((l) => Number(l.trim().split(/\s+/)[0]))[0];
    expect(reaperPid, 'the runner has a reaper').to.be.a('number');
    // The job records its process group; its shell stays alive with the directory in its command
    // line, so a survivor is easy to find.
    const id = await insertShellJob(`echo $$ > ${dir}/pgid; sleep 300; echo ${dir}`);
    expect(await runner.exited, 'the runner was killed').to.equal(null);
    await runner.stop('SIGKILL');
    // The reaper acts on end-of-file, which comes only once the job's launcher has registered its
    // group and closed its copy of the pipe; then it kills the group and exits.
    expect(await waitUntil(() => !processAlive(reaperPid!), 15_000), 'the reaper exited').to.equal(true);
    // The job either never got to run or recorded its group; an orphan would have done so by now.
    const pgidFile = path.join(dir, 'pgid');
    await waitUntil(() => fs.existsSync(pgidFile) && fs.readFileSync(pgidFile, 'utf8').endsWith('\n'), 2000);
    const pgid = fs.existsSync(pgidFile) ? Number(fs.readFileSync(pgidFile, 'utf8')) : null;
    // Zombies are not counted: they wait for init to reap them.
    await waitUntil(() => (!pgid || !groupAlive(pgid)) && processesMentioning(dir).length === 0, 5000);
    const orphans = processesMentioning(dir);
    const survived = pgid !== null && groupAlive(pgid);
    if (survived) spawnSync('kill', ['-KILL', '--', `-${pgid}`]);
    await models.Job.destroy({ where: { id } });
    await models.JobRunner.destroy({ where: { id: runner.runnerId } });
    expect(survived, 'the job process group outlived its runner').to.equal(false);
    expect(orphans, 'job processes left running').to.deep.equal([]);
  });
});

function processAlive(pid: number): boolean {
  const ps = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  const stat = ps.stdout.trim();
  return stat !== '' && !stat.startsWith('Z');
}
