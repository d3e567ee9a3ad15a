// The job runner's memory, and its reaper's, measured the way the runner is deployed: bin/build.js,
// then `node dist/job-runner.js` as its own process (systemd/berth-job-runner.service: NODE_ENV=
// production, the default settings, concurrency 4), on a fresh database. Prints the RSS (/proc/<pid>/
// status VmRSS, and RssAnon: the process's own heap, as opposed to mapped files such as node's code
// or libc, which other processes share) of the runner and of its reaper sidecar: idle after start,
// under load (JOBS shell jobs, 4 at a time, each printing LINES lines of output over a few seconds;
// the peak and the last sample), and idle again after the load. Printed, not asserted.
//
//   npx tsx bench/jobs-memory.ts                 SQLite (npm run bench:runner-memory)
//   BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/berth_bench npx tsx bench/jobs-memory.ts
//   --jobs=N       jobs in the load (default 24)
//   --lines=N      lines each job prints (default 20,000 of 100 bytes, in batches with short sleeps)
//   --no-build     use the existing dist/ instead of running bin/build.js first
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Op } from 'sequelize';
import { projectRoot } from '../src/lib/paths.js';
import { benchDb, dialectLabel } from './common.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const raw = args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const n = Number(raw ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
  return n;
};
const JOBS = option('jobs', 24);
const LINES = option('lines', 20_000);
const CONCURRENCY = 4;
const MiB = (kib: number) => (kib / 1024).toFixed(1);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

if (!args.includes('--no-build')) {
  const build = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'build.js')], { cwd: projectRoot, stdio: 'inherit' });
  // tsc emits despite type errors (another change in progress): run what was emitted, but say so.
  if (build.status !== 0) console.log(`warning: bin/build.js exited with ${build.status}; benchmarking the emitted dist/ anyway`);
}
if (!fs.existsSync(path.join(projectRoot, 'dist', 'job-runner.js'))) throw new Error('dist/job-runner.js is missing: run npm run build');

const { db, config, cleanup } = await benchDb();
const label = dialectLabel(config);
const databaseUrl = config.database.dialect === 'sqlite' ? `sqlite:${config.database.storage}` : process.env.BENCH_DATABASE_URL!;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-runner-'));

// --- the runner process, as systemd starts it ---
const runner = spawn(process.execPath, ['dist/job-runner.js'], {
  cwd: projectRoot,
  env: {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/',
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: 'bench-session-secret-that-is-long-enough-123',
    DATA_DIR: dataDir,
    JOB_RUNNER_CONCURRENCY: String(CONCURRENCY),
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));
let stderr = '';
runner.stderr!.on('data', (d) => (stderr += d));
await new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`the runner did not start in 30 s: ${stderr}`)), 30_000);
  readline.createInterface({ input: runner.stdout! }).on('line', (line) => {
    if (!line.includes('"job runner started"')) return;
    clearTimeout(timer);
    resolve();
  });
  void exited.then((code) => (clearTimeout(timer), reject(new Error(`the runner exited (${code}): ${stderr}`))));
});
const runnerPid = runner.pid!;
const children = () => fs.readFileSync(`/proc/${runnerPid}/task/${runnerPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
const commandLine = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
const reaperPid = children().find((pid) => /berth-reaper| -e /.test(commandLine(pid)));
if (!reaperPid) throw new Error('the runner has no reaper process');
const reaperKind = commandLine(reaperPid).includes('berth-reaper') ? 'sh script' : 'node -e';

interface Rss {
  rss: number;
  anon: number;
}
function rssOf(pid: number): Rss {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), anon: kib('RssAnon') };
}
const show = (r: Rss) => `${MiB(r.rss)} MiB (anon ${MiB(r.anon)})`;
function report(what: string, runnerRss: Rss, reaperRss: Rss): void {
  console.log(`[${label}] ${what.padEnd(26)} runner ${show(runnerRss)}, reaper ${show(reaperRss)}`);
}

console.log(`[${label}] runner: node dist/job-runner.js (pid ${runnerPid}), concurrency ${CONCURRENCY}; reaper: ${reaperKind} (pid ${reaperPid})`);

// --- idle ---
await sleep(5000);
report('idle (5 s after start)', rssOf(runnerPid), rssOf(reaperPid));

// --- load: each job prints LINES lines of 100 bytes (99 + newline) in batches of 500, with a short
// sleep between batches so the output arrives over a few seconds, not in one burst ---
const pad = 'x'.repeat(80);
const command = `i=0; while [ $i -lt ${LINES} ]; do j=0; while [ $j -lt 500 ]; do printf 'line %08d %s\\n' $((i + j)) ${pad}; j=$((j + 1)); done; i=$((i + 500)); sleep 0.05; done`;
const now = new Date();
const ids = (await db.models.Job.bulkCreate(Array.from({ length: JOBS }, () => ({ command, status: 'pending', createdAt: now, updatedAt: now }) as never))).map((j) => j.id);
const t0 = Date.now();
let peakRunner: Rss = { rss: 0, anon: 0 };
let peakReaper: Rss = { rss: 0, anon: 0 };
let last: { runner: Rss; reaper: Rss } | undefined;
let samples = 0;
for (;;) {
  const r = rssOf(runnerPid);
  const p = rssOf(reaperPid);
  if (r.rss > peakRunner.rss) peakRunner = r;
  if (p.rss > peakReaper.rss) peakReaper = p;
  last = { runner: r, reaper: p };
  samples++;
  const open = await db.models.Job.count({ where: { id: ids, status: { [Op.in]: ['pending', 'running'] } } });
  if (open === 0) break;
  if (Date.now() - t0 > 600_000) throw new Error('the load did not finish in 10 minutes');
  await sleep(250);
}
const seconds = (Date.now() - t0) / 1000;
const failed = await db.models.Job.count({ where: { id: ids, status: { [Op.ne]: 'success' } } });
const rows = await db.models.JobOutput.count({ where: { jobId: ids } });
const bytes = JOBS * LINES * 100;
console.log(
  `[${label}] load: ${JOBS} jobs, ${CONCURRENCY} at a time, each ${LINES.toLocaleString('en')} lines of 100 bytes ` +
    `(${MiB(bytes / 1024)} MiB of output in total, ${rows.toLocaleString('en')} output rows stored) in ${seconds.toFixed(1)} s` +
    (failed ? `; ${failed} jobs did not succeed` : ''),
);
report(`under load (peak of ${samples})`, peakRunner, peakReaper);
report('under load (last sample)', last!.runner, last!.reaper);

// --- idle again ---
await sleep(5000);
report('idle (5 s after the load)', rssOf(runnerPid), rssOf(reaperPid));

runner.kill('SIGTERM');
const timer = setTimeout(() => runner.kill('SIGKILL'), 45_000);
await exited;
clearTimeout(timer);
await cleanup();
fs.rmSync(dataDir, { recursive: true, force: true });
