import { expect } from 'chai';
import { Op } from 'sequelize';
import { z } from 'zod';
import { registerTask } from '../../../src/jobs/tasks/index.js';
import { testContext } from '../../support/context.js';
import { startRunner } from '../../support/runner.js';

const runs = new Map<number, number>();
registerTask({
  name: 'test-count',
  kind: 'function',
  schema: z.object({}),
  describe: () => 'count',
  run: async (_p, ctx) => {
    runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
    ctx.stdout(`ran ${ctx.jobId}\n`);
  },
});

describe('job runner: several runners', function () {
  this.timeout(150_000);

  it('4 runners never run one job twice and run every job', async () => {
    const { models, sequelize } = testContext().db;
    const total = sequelize.getDialect() === 'sqlite' ? 400 : 2000;
    const now = new Date();
    const created = await models.Job.bulkCreate(
      Array.from({ length: total }, () => ({ command: 'count', task: 'test-count', params: '{}', status: 'pending' as const, createdAt: now, updatedAt: now }) as never),
    );
    const ids = new Set(created.map((j) => j.id));
    const started = Date.now();
    // The default dead-runner threshold (30 s): this test is about exactly-once claims under contention,
    // and with 32 writers on one SQLite file a 2-core machine can hold a heartbeat back for seconds.
    const runners = await Promise.all([1, 2, 3, 4].map(() => startRunner({ concurrency: 8, pollMs: 20, outputFlushMs: 20, staleSeconds: 30 })));
    const deadline = Date.now() + 140_000;
    for (;;) {
      const left = await models.Job.count({ where: { id: [...ids], status: { [Op.in]: ['pending', 'running'] } } });
      if (!left) break;
      if (Date.now() > deadline) throw new Error(`${left} jobs still unfinished`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const elapsed = Date.now() - started;
    await Promise.all(runners.map((r) => r.close()));
    const jobs = await models.Job.findAll({ where: { id: [...ids] }, attributes: ['id', 'status', 'lockedBy', 'error'], raw: true });
    expect(jobs.filter((j) => j.status !== 'success')).to.deep.equal([]);
    expect([...ids].filter((id) => runs.get(id) !== 1), 'jobs not run exactly once').to.deep.equal([]);
    const perRunner = new Map<string, number>();
    for (const j of jobs) perRunner.set(j.lockedBy!, (perRunner.get(j.lockedBy!) ?? 0) + 1);
    expect([...perRunner.keys()].sort()).to.deep.equal(runners.map((r) => r.id).sort());
    expect(await models.JobOutput.count({ where: { jobId: [...ids] } })).to.equal(total);
    console.log(`      (${total} jobs in ${elapsed} ms; per runner: ${[...perRunner.values()].join(', ')})`);
  });
});
