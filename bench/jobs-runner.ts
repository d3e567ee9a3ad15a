// Job runner benchmarks, measured the way Berth is deployed: the runner in its own process
// (`node --import tsx job-runner.ts`), real shell jobs, default settings. Prints the idle query rate of
// a runner, enqueue-to-start latency (through enqueueJob, and for a job inserted by plain SQL, which
// only the runner's fallback poll finds), shell jobs per second, and output ingestion. Figures are
// printed, not asserted.
//   npx tsx bench/jobs-runner.ts            (SQLite)
//   BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/berth_bench npx tsx bench/jobs-runner.ts
// BENCH_IDLE_SECONDS (20) sets how long the idle runner is watched.
import { Op, QueryTypes } from 'sequelize';
import { enqueueJob } from '../src/jobs/enqueue.js';
import { benchDb, classifyStatements, dialectLabel, exitWhenDone, percentile, startRunnerProcess } from './common.js';

const { db, config, url, cleanup } = await benchDb();
const { models, sequelize } = db;
const label = dialectLabel(config);
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started = Date.now();
console.log(`[${label}] runner: its own process (node --import tsx job-runner.ts), default settings; JOB_RUNNER_POLL_MS default ${config.JOB_RUNNER_POLL_MS} ms`);

async function waitAll(ids: number[]): Promise<void> {
  while ((await models.Job.count({ where: { id: ids, status: { [Op.in]: ['pending', 'running'] } } })) > 0) await sleep(20);
}

/** When job `id` started its process: the job's first line is its own clock (`date +%s%3N`). */
async function startedAt(id: number): Promise<number> {
  for (;;) {
    const job = await models.Job.findByPk(id, { attributes: ['status'] });
    if (job && !['pending', 'running'].includes(job.status)) break;
    await sleep(5);
  }
  const row = await models.JobOutput.findOne({ where: { jobId: id, stream: 'stdout' }, order: [['seq', 'ASC']] });
  const stamp = Number(row?.output?.trim().split('\n')[0]);
  if (!Number.isFinite(stamp)) throw new Error(`job ${id} printed no timestamp: ${row?.output}`);
  return stamp;
}

// 1. Idle query rate: every statement an idle runner sends (LOG_LEVEL=trace logs each one).
{
  const r = await startRunnerProcess(url, {}, true);
  await sleep(2000); // past the start-up queries
  const before = r.statements.length;
  await sleep(idleSeconds * 1000);
  const idle = r.statements.slice(before);
  await r.stop();
  const kinds = Object.entries(classifyStatements(idle)).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`[${label}] idle runner: ${idle.length} SQL statements in ${idleSeconds} s = ${(idle.length / idleSeconds).toFixed(2)} statements/s (${kinds}); 0 jobs pending`);
}

// 2. Enqueue-to-start latency: enqueueJob, then the job's own clock when its process ran.
{
  const r = await startRunnerProcess(url);
  await sleep(1000);
  const latencies: number[] = [];
  const N = 100;
  for (let i = 0; i < N; i++) {
    await sleep(Math.random() * 600); // the runner idles between jobs: enqueue at a random phase of its (old 500 ms) poll
    const t0 = Date.now();
    const job = await enqueueJob(models, { command: 'date +%s%3N', createdBy: null, mayRunAdminTasks: true });
    latencies.push((await startedAt(job.id)) - t0);
  }
  console.log(`[${label}] enqueue-to-start (enqueueJob, shell job, runner in its own process) over ${N} jobs: p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, max ${Math.max(...latencies)} ms`);

  // The same for jobs inserted by plain SQL (as the seed does): nobody announces them, the poll finds them.
  const sqlLatencies: number[] = [];
  const M = 20;
  const now = sequelize.getDialect() === 'sqlite' ? "datetime('now')" : 'NOW()';
  for (let i = 0; i < M; i++) {
    await sleep(Math.random() * 100);
    const t0 = Date.now();
    await sequelize.query(`INSERT INTO Jobs (command, status, createdAt, updatedAt) VALUES ('date +%s%3N', 'pending', ${now}, ${now})`);
    const [{ id }] = await sequelize.query<{ id: number }>('SELECT MAX(id) AS id FROM Jobs', { type: QueryTypes.SELECT });
    sqlLatencies.push((await startedAt(Number(id))) - t0);
  }
  await r.stop();
  console.log(`[${label}] insert-to-start (plain SQL INSERT, found by the fallback poll) over ${M} jobs: p50 ${percentile(sqlLatencies, 50)} ms, p95 ${percentile(sqlLatencies, 95)} ms, max ${Math.max(...sqlLatencies)} ms`);
}

// 3. Shell jobs per second, one runner process at concurrency 8; then output ingestion.
{
  const r = await startRunnerProcess(url, { JOB_RUNNER_CONCURRENCY: '8', JOB_OUTPUT_MAX_BYTES: String(64 * 1024 * 1024) });
  await sleep(1000);
  const N = config.database.dialect === 'sqlite' ? 500 : 2000;
  const t0 = Date.now();
  const stamp = new Date();
  const jobs = await models.Job.bulkCreate(Array.from({ length: N - 1 }, () => ({ command: 'echo x', status: 'pending' as const, createdAt: stamp, updatedAt: stamp }) as never));
  // The last one through enqueueJob, which announces it: the runner wakes for the whole batch.
  const last = await enqueueJob(models, { command: 'echo x', createdBy: null, mayRunAdminTasks: true });
  await waitAll([...jobs.map((j) => j.id), last.id]);
  const secs = (Date.now() - t0) / 1000;
  const failed = await models.Job.count({ where: { id: [...jobs.map((j) => j.id), last.id], status: { [Op.ne]: 'success' } } });
  console.log(`[${label}] shell jobs (sh -c 'echo x'): ${N} jobs in ${secs.toFixed(2)} s = ${(N / secs).toFixed(0)} jobs/s for one runner process (concurrency 8), ${failed} not successful`);

  const job = await enqueueJob(models, { command: 'seq 1 1000000', createdBy: null, mayRunAdminTasks: true });
  const t1 = Date.now();
  await waitAll([job.id]);
  const ingest = (Date.now() - t1) / 1000;
  const rows = await models.JobOutput.count({ where: { jobId: job.id } });
  await r.stop();
  console.log(`[${label}] output ingestion: 1,000,000 lines (6.9 MB) stored in ${rows} rows in ${ingest.toFixed(2)} s = ${Math.round(1e6 / ingest).toLocaleString('en')} lines/s`);
}

console.log(`[${label}] data: ${await models.Job.count()} Jobs rows, ${await models.JobOutput.count()} JobStatuses rows at the end; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
await cleanup();
exitWhenDone();
