import { expect } from 'chai';
import { createJob, createJobRunner } from '../../factories/jobs.js';
import { testContext } from '../../support/context.js';
import { groupAlive, insertShellJob, waitForOutput, jobOutput, startRunner, waitForJob } from '../../support/runner.js';

describe('job runner: running jobs', function () {
  this.timeout(30_000);

  it('runs a job inserted by hand with the seed SQL as an admin shell command, stdout and stderr in order', async () => {
    const runner = await startRunner();
    const id = await insertShellJob('echo "Hello"; echo oops >&2; sleep 0.2; echo "World"; printf "no newline"');
    const job = await waitForJob(id);
    await runner.close();
    expect(job.status).to.equal('success');
    expect(job.exitCode).to.equal(0);
    expect(job.lockedBy).to.equal(runner.id);
    expect(job.startedAt).to.be.instanceOf(Date);
    expect(job.finishedAt).to.be.instanceOf(Date);
    expect(await jobOutput(id, 'stdout')).to.equal('Hello\nWorld\nno newline');
    expect(await jobOutput(id, 'stderr')).to.equal('oops\n');
    // SELECT output FROM JobStatuses WHERE jobId = N stays readable.
    const [rows] = await testContext().db.sequelize.query(`SELECT output FROM JobStatuses WHERE jobId = ${id} ORDER BY seq`);
    expect((rows as Array<{ output: string }>).map((r) => r.output).join('')).to.contain('Hello\n').and.contain('World\n');
  });

  it('marks a failing command failure with its exit code', async () => {
    const runner = await startRunner();
    const id = await insertShellJob('echo before; exit 3');
    const job = await waitForJob(id);
    await runner.close();
    expect(job.status).to.equal('failure');
    expect(job.exitCode).to.equal(3);
    expect(job.error).to.equal('exited with code 3');
  });
});

describe('job runner: output', function () {
  this.timeout(120_000);

  it('stores all of a 1,000,000-line job, in order', async () => {
    const runner = await startRunner({ outputMaxBytes: 64 * 1024 * 1024 });
    const id = await insertShellJob('seq 1 1000000');
    const started = Date.now();
    const job = await waitForJob(id, 100_000);
    await runner.close();
    expect(job.status).to.equal('success');
    const expected = Array.from({ length: 1_000_000 }, (_, i) => `${i + 1}\n`).join('');
    const out = await jobOutput(id, 'stdout');
    expect(out.length).to.equal(expected.length);
    expect(out === expected, 'output equals seq 1 1000000').to.equal(true);
    const rows = await testContext().db.models.JobOutput.findAll({ where: { jobId: id }, attributes: ['seq'], order: [['seq', 'ASC']], raw: true });
    expect(rows.map((r) => r.seq)).to.deep.equal(rows.map((_, i) => i + 1));
    console.log(`      (${rows.length} rows, ${(expected.length / 1e6).toFixed(1)} MB in ${Date.now() - started} ms)`);
  });

  it('stores a line without a newline, binary bytes and very long lines sanely', async () => {
    const runner = await startRunner();
    const id = await insertShellJob("printf 'bin:\\377\\376\\000z\\n'; printf 'é'; printf 'è\\n'; head -c 300000 /dev/zero | tr '\\000' x; printf '\\nlast without newline'");
    const job = await waitForJob(id);
    await runner.close();
    expect(job.status).to.equal('success');
    const out = await jobOutput(id, 'stdout');
    expect(out.startsWith('bin:\uFFFD\uFFFD\uFFFDz\néè\n')).to.equal(true);
    expect(out).to.contain(`${'x'.repeat(300_000)}\nlast without newline`);
    expect(out.endsWith('last without newline')).to.equal(true);
  });

  it('caps the stored output with a clear truncation marker', async () => {
    const runner = await startRunner({ outputMaxBytes: 2000 });
    const id = await insertShellJob('seq 1 5000');
    const job = await waitForJob(id);
    await runner.close();
    expect(job.status).to.equal('success');
    const stdout = await jobOutput(id, 'stdout');
    expect(Buffer.byteLength(stdout)).to.be.at.most(2000);
    expect(stdout.startsWith('1\n2\n3\n')).to.equal(true);
    expect(await jobOutput(id, 'system')).to.match(/output truncated: this job printed more than 2000 bytes/);
  });
});

describe('job runner: timeouts, cancellation, recovery', function () {
  this.timeout(60_000);

  it('a timeout ends the whole process tree and marks the job failure', async () => {
    const runner = await startRunner({ cancelGraceSeconds: 1 });
    const id = await insertShellJob("echo pgid $$; sleep 300 & (trap '' TERM; sleep 300) & wait", { timeoutSeconds: 1 });
    const pgid = Number((await waitForOutput(id, /pgid (\d+)/))[1]);
    expect(groupAlive(pgid)).to.equal(true);
    const job = await waitForJob(id);
    await runner.close();
    expect(job.status).to.equal('failure');
    expect(job.error).to.equal('timed out after 1 s');
    expect(groupAlive(pgid), 'process group gone').to.equal(false);
    expect(await jobOutput(id, 'system')).to.contain('timed out after 1 s');
  });

  it('a cancel request ends the whole process tree (SIGKILL after the grace period) and marks it cancelled', async () => {
    const runner = await startRunner({ cancelGraceSeconds: 1 });
    const id = await insertShellJob("echo pgid $$; (trap '' TERM; sleep 300) & wait");
    const pgid = Number((await waitForOutput(id, /pgid (\d+)/))[1]);
    await testContext().db.models.Job.update({ cancelRequestedAt: new Date(), error: 'cancelled by test' }, { where: { id } });
    const job = await waitForJob(id);
    await runner.close();
    expect(job.status).to.equal('cancelled');
    expect(job.error).to.equal('cancelled by test');
    expect(groupAlive(pgid)).to.equal(false);
  });

  it("marks failure a running job whose runner stopped heartbeating, with the reason, and does not re-run it", async () => {
    const { models } = testContext().db;
    const old = new Date(Date.now() - 60_000);
    await createJobRunner({ id: 'ghost-runner', hostname: 'gone', startedAt: old, heartbeatAt: old });
    const id = (await createJob({ command: 'echo never', status: 'running', lockedBy: 'ghost-runner', lockedAt: old, startedAt: old })).id;
    const runner = await startRunner({ heartbeatSeconds: 1, staleSeconds: 5 });
    const job = await waitForJob(id, 10_000);
    await runner.close();
    expect(job.status).to.equal('failure');
    expect(job.error).to.match(/runner ghost-runner stopped heartbeating .*not re-run/);
    expect(job.lockedBy).to.equal('ghost-runner');
    expect(await jobOutput(id, 'stdout')).to.equal('');
    expect(await models.JobRunner.count({ where: { id: 'ghost-runner' } })).to.equal(0);
  });

  it('runs in-process tasks with validated parameters', async () => {
    const { enqueueJob } = await import('../../../src/jobs/enqueue.js');
    const runner = await startRunner();
    const job = await enqueueJob(testContext().db.models, { task: 'echo', params: { lines: ['a', 'b'] }, createdBy: 'alice', mayRunAdminTasks: false });
    const done = await waitForJob(job.id);
    await runner.close();
    expect(done.status).to.equal('success');
    expect(await jobOutput(job.id)).to.equal('a\nb\n');
    let error: any;
    await enqueueJob(testContext().db.models, { task: 'echo', params: { lines: 'nope' }, createdBy: 'alice', mayRunAdminTasks: false }).catch((e) => (error = e));
    expect(error?.status).to.equal(422);
    error = undefined;
    await enqueueJob(testContext().db.models, { command: 'id', createdBy: 'alice', mayRunAdminTasks: false }).catch((e) => (error = e));
    expect(error?.status).to.equal(403);
  });
});
