// SSE benchmarks, in the deployed shape: the job runner in its own process, the web app in this one,
// default settings. Line-to-browser latency (a line printed by a job → the event at an HTTP client),
// for a chatty job and a quiet one, and 200 concurrent viewers of one job (errors, the web process's
// database queries per second). Printed, not asserted.
//   npx tsx bench/jobs-sse.ts   (or with BENCH_DATABASE_URL=mysql://…)
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { createLogger } from '../src/lib/logger.js';
import { enqueueJob } from '../src/jobs/enqueue.js';
import { hashPassword } from '../src/lib/passwords.js';
import { loginCookie, readSse } from '../test/support/sse-client.js';
import { benchDb, dialectLabel, exitWhenDone, percentile, startRunnerProcess } from './common.js';

const { db, config, url, cleanup } = await benchDb();
const label = dialectLabel(config);
const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const username = `bench-${Date.now()}`;
await db.models.User.create({ username, realm: 'local', role: 'admin', disabled: false, displayName: null, email: null, passwordHash: await hashPassword('bench-password-1'), lastLoginAt: null });
const cookie = await loginCookie(base, username, 'bench-password-1');
const r = await startRunnerProcess(url);
const settings = `runner in its own process; flush ${config.JOB_OUTPUT_FLUSH_MS} ms, feed poll ${config.JOB_STREAM_POLL_MS} ms (quiet: up to ${config.JOB_STREAM_IDLE_POLL_MS} ms)`;

let queries = 0;
const original = db.sequelize.query.bind(db.sequelize);
db.sequelize.query = ((...args: Parameters<typeof original>) => (queries++, original(...args))) as typeof original;

// 1. Line-to-browser latency: the job prints its clock every 50 ms (chatty) or every 400 ms (quiet); the
// client compares on receipt.
for (const [lines, pause] of [[100, 0.05], [20, 0.4]] as const) {
  const job = await enqueueJob(db.models, { command: `for i in $(seq 1 ${lines}); do date +%s%3N; sleep ${pause}; done`, createdBy: username, mayRunAdminTasks: true });
  const latencies: number[] = [];
  await readSse(`${base}/api/stream/${job.id}`, { cookie }, (e) => {
    if (e.event !== 'output') return;
    const now = Date.now();
    for (const line of JSON.parse(e.data).output.split('\n')) if (/^\d{13}$/.test(line)) latencies.push(now - Number(line));
  });
  console.log(`[${label}] line-to-client SSE latency over ${latencies.length} lines, one every ${pause * 1000} ms (${settings}): p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms`);
}

// 2. 200 concurrent viewers of one job printing 10 lines/s for 5 s.
{
  const job = await enqueueJob(db.models, { command: 'for i in $(seq 1 50); do echo "line $i"; sleep 0.1; done', createdBy: username, mayRunAdminTasks: true });
  queries = 0;
  const t0 = Date.now();
  let errors = 0;
  const results = await Promise.all(
    Array.from({ length: 200 }, async () => {
      let text = '';
      try {
        const res = await readSse(`${base}/api/stream/${job.id}`, { cookie }, (e) => {
          if (e.event === 'output') text += JSON.parse(e.data).output;
        });
        if (res.status !== 200) errors++;
      } catch {
        errors++;
      }
      return text;
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  const complete = results.filter((t) => t.split('\n').filter(Boolean).length === 50).length;
  console.log(`[${label}] 200 concurrent SSE viewers of one job (50 lines over 5 s): ${errors} errors, ${complete}/200 got every line, ${queries} DB queries by the web process in ${secs.toFixed(1)} s = ${(queries / secs).toFixed(0)} queries/s (includes 200 logins' session and auth reads and the replays; the runner is another process)`);
}

db.sequelize.query = original;
await r.stop();
await stop();
server.closeAllConnections();
await new Promise((resolve) => server.close(resolve));
await cleanup();
exitWhenDone();
