import { expect } from 'chai';
import { enqueueJob } from '../../../src/jobs/enqueue.js';
import { testContext } from '../../support/context.js';
import { insertShellJob, startRunnerProcess, waitForJob } from '../../support/runner.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started = (j: { status: string }) => j.status !== 'pending';

/**
 * A runner in its own process learns of a job enqueued elsewhere from the wake-up channel
 * (src/jobs/wake.ts: KILL QUERY of its waiting statement on MariaDB, a watched file on SQLite), not
 * from its poll; the poll stays for jobs nobody announces. Margins are wide on purpose: this checks
 * that the wake-up happens, the figures are in bench/jobs-runner.ts.
 */
describe('job runner wake-up across processes', function () {
  this.timeout(60_000);

  it('a job enqueued through enqueueJob starts without waiting for the fallback poll (poll 30 s), again and again', async () => {
    const runner = await startRunnerProcess({ JOB_RUNNER_POLL_MS: '30000' });
    try {
      // Past the claim the runner makes as it starts: from now on only a wake-up (or the poll, 30 s
      // away) can start a job.
      await sleep(1000);
      const { models } = testContext().db;
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const job = await enqueueJob(models, { command: `echo woken ${i}`, createdBy: null, mayRunAdminTasks: true });
        const row = await waitForJob(job.id, 8000, started).catch((err: Error) => {
          throw new Error(`job ${i + 1} of 3 was not started within 8 s of enqueueJob, so the runner was not woken (its poll is 30 s): ${err.message}`);
        });
        expect(row.lockedBy).to.equal(runner.runnerId);
        expect(Date.now() - t0).to.be.below(8000);
        expect((await waitForJob(job.id)).status).to.equal('success');
        // Idle again, waiting on the channel, before the next job.
        await sleep(500);
      }
    } finally {
      expect(await runner.stop()).to.equal(0);
    }
  });

  it('a job inserted without enqueueJob (plain SQL, as the seed) is still found by the fallback poll', async () => {
    const runner = await startRunnerProcess({ JOB_RUNNER_POLL_MS: '1000' });
    try {
      await sleep(1000);
      const id = await insertShellJob('echo found by the poll');
      const job = await waitForJob(id, 20_000);
      expect(job.status).to.equal('success');
      expect(job.lockedBy).to.equal(runner.runnerId);
    } finally {
      expect(await runner.stop()).to.equal(0);
    }
  });
});
