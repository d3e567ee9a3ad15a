// Job runner benchmarks: enqueue-to-start latency, trivial jobs per second per runner, output
// ingestion in lines per second. Figures are printed, not asserted.
//   npx tsx bench/jobs-runner.ts            (SQLite)
//   BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/berth_bench npx tsx bench/jobs-runner.ts
import { Op } from 'sequelize';
import { enqueueJob } from '../src/jobs/enqueue.js';
import { benchDb, dialectLabel, percentile, runner } from './common.js';

const { db, config, cleanup } = await benchDb();
const { models } = db;
const label = dialectLabel(config);

async function waitAll(ids: number[]): Promise<void> {
  while ((await models.Job.count({ where: { id: ids, status: { [Op.in]: ['pending', 'running'] } } })) > 0) await new Promise((r) => setTimeout(r, 20));
}

// 1. Enqueue-to-start latency (the runner is in this process, so the nudge applies; the poll is 500 ms).
{
  const r = runner(db, config, { concurrency: 4 });
  await r.start();
  const latencies: number[] = [];
  const N = 100;
  for (let i = 0; i < N; i++) {
    const t0 = Date.now();
    const job = await enqueueJob(models, { task: 'echo', params: { lines: [] }, createdBy: null, isAdmin: true });
    for (;;) {
      const row = await models.Job.findByPk(job.id, { attributes: ['startedAt', 'status'] });
      if (row?.startedAt) {
        latencies.push(Date.now() - t0);
        break;
      }
      await new Promise((res) => setTimeout(res, 2));
    }
  }
  await r.stop();
  console.log(`[${label}] enqueue-to-start latency over ${N} jobs (in-process nudge): p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms`);
}

// 2. Trivial jobs per second, one runner (concurrency 8).
{
  const N = config.database.dialect === 'sqlite' ? 500 : 2000;
  const now = new Date();
  const jobs = await models.Job.bulkCreate(Array.from({ length: N }, () => ({ command: 'echo', task: 'echo', params: '{"lines":["x"]}', status: 'pending' as const, createdAt: now, updatedAt: now }) as never));
  const r = runner(db, config, { concurrency: 8, pollMs: 20 });
  const t0 = Date.now();
  await r.start();
  await waitAll(jobs.map((j) => j.id));
  const secs = (Date.now() - t0) / 1000;
  await r.stop();
  console.log(`[${label}] trivial jobs (echo, 1 line each): ${N} jobs in ${secs.toFixed(2)} s = ${(N / secs).toFixed(0)} jobs/s for one runner (concurrency 8)`);
}

// 3. Output ingestion: a job printing 1,000,000 short lines.
{
  const r = runner(db, config, { outputMaxBytes: 64 * 1024 * 1024 });
  await r.start();
  const job = await enqueueJob(models, { command: 'seq 1 1000000', createdBy: null, isAdmin: true });
  const t0 = Date.now();
  await waitAll([job.id]);
  const secs = (Date.now() - t0) / 1000;
  const rows = await models.JobStatus.count({ where: { jobId: job.id } });
  await r.stop();
  console.log(`[${label}] output ingestion: 1,000,000 lines (6.9 MB) stored in ${rows} rows in ${secs.toFixed(2)} s = ${Math.round(1e6 / secs).toLocaleString('en')} lines/s`);
}

await cleanup();
