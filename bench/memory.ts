// The web server's memory under list traffic: does it level off or leak? Seeds 10,000 containers and
// 2,000 VMs on 3 nodes (bench/seed.ts) into a temporary DATA_DIR, then starts the real server as its own
// process exactly as `npm start` does (bin/build.js, then package.json's start script, unchanged, with
// the default settings: NODE_ENV unset, LOG_LEVEL info), logs in as an admin and as a user, sends list
// requests over 127.0.0.1 with bounded concurrency (/containers and /vms with searches, filters, pages,
// sorts, page sizes; any answer but 200 stops the run) and prints the server's RSS (/proc/<pid>/status
// VmRSS) every 5,000 requests, with its V8 heap. Printed, not asserted. Findings: docs/benchmarks.md.
//
//   npx tsx bench/memory.ts                      50,000 requests (npm run bench:memory)
//   npx tsx bench/memory.ts --requests=5000      a quick run (or BENCH_REQUESTS=5000)
//   --every=N            sample every N requests (default 5,000, or requests/10 when fewer)
//   --concurrency=N      requests in flight (default 8)
//   --gc                 run a full GC before each sample (server started with --expose-gc): tells a leak
//                        (heap after GC keeps growing) from a heap V8 has simply not collected yet
//   --spaces             also print the size of each V8 heap space
//   --no-build           use the existing dist/ instead of running bin/build.js first
//   BENCH_NODE_FLAGS     extra node flags for the server, e.g. '--max-old-space-size=64'
//   BENCH_SERVER_ENV     extra environment for the server, e.g. 'NODE_ENV=production MALLOC_ARENA_MAX=2'
//                        (default: none: NODE_ENV unset, as with npm start)
//   BENCH_CONTAINERS / BENCH_VMS / BENCH_DATABASE_URL as for the other benchmarks (bench/README.md)
//
// The heap figures come from a bench-only preload (PROBE below, given to node in NODE_OPTIONS) that
// prints process.memoryUsage() to stderr on SIGUSR2: nothing is added to the server or its routes.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { projectRoot } from '../src/lib/paths.js';
import { loginCookie } from '../test/support/sse-client.js';
import { benchDb, dialectLabel } from './common.js';
import { createBenchUser, inventorySize, seedInventory } from './seed.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const raw = args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const n = Number(raw ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
  return n;
};
const REQUESTS = option('requests', Number(process.env.BENCH_REQUESTS ?? 50_000));
const EVERY = option('every', Math.min(5_000, Math.max(1, Math.floor(REQUESTS / 10))));
const CONCURRENCY = option('concurrency', 8);
const FORCE_GC = flag('gc');
const SPACES = flag('spaces');
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const size = inventorySize();
const MiB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

// --- the server, run as `npm start` runs it: its prestart (bin/build.js) then its start script ---
const startScript = (JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
if (!flag('no-build')) {
  const build = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'build.js')], { cwd: projectRoot, stdio: 'inherit' });
  // tsc emits despite type errors (another change in progress): run what was emitted, but say so.
  if (build.status !== 0) console.log(`warning: bin/build.js exited with ${build.status}; benchmarking the emitted dist/ anyway`);
}
if (!fs.existsSync(path.join(projectRoot, 'dist', 'server.js'))) throw new Error('dist/server.js is missing: run npm run build');

// --- data ---
const { db, config, cleanup } = await benchDb();
const label = dialectLabel(config);
const { owners, seconds } = await seedInventory(db.models, size);
const password = 'bench-password-1';
const admin = 'bench-admin';
const user = owners[7]!;
await createBenchUser(db.models, admin, 'admin', password);
await createBenchUser(db.models, user, 'user', password);
const ownRows = (await db.models.Container.count({ where: { username: user } })) + (await db.models.VirtualMachine.count({ where: { username: user } }));
const dbBytes = config.database.dialect === 'sqlite' ? fs.statSync(config.database.storage!).size : NaN;
console.log(
  `[${label}] data: ${size.containers} containers and ${size.vms} VMs on 3 nodes, 50 owners (${user} owns ${ownRows})` +
    (Number.isNaN(dbBytes) ? '' : `, database file ${MiB(dbBytes)} MiB`) +
    `; seeded in ${seconds.toFixed(1)} s`,
);

// --- the server process ---
const PROBE = `import fs from 'node:fs';
import v8 from 'node:v8';
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') globalThis.gc();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  fs.writeSync(2, 'BENCH_MEMORY ' + JSON.stringify({ ...process.memoryUsage(), spaces }) + '\\n');
});`;
// The probe and any BENCH_NODE_FLAGS reach node through NODE_OPTIONS, so the start script runs unchanged.
const nodeOptions = [...NODE_FLAGS, ...(FORCE_GC ? ['--expose-gc'] : []), '--import', `data:text/javascript,${encodeURIComponent(PROBE)}`];
const env: Record<string, string> = {
  PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  HOME: config.DATA_DIR,
  DATA_DIR: config.DATA_DIR,
  DATABASE_URL: config.database.url,
  HOST: '127.0.0.1',
  PORT: '0',
  NODE_OPTIONS: nodeOptions.join(' '),
};
for (const pair of (process.env.BENCH_SERVER_ENV ?? '').split(/\s+/).filter(Boolean)) {
  const [key, ...value] = pair.split('=');
  env[key!] = value.join('=');
}
// Like npm: the start script through sh, in the checkout (whose .env, if any, the server reads as usual).
// sh execs a lone command, so the child is the node process itself; otherwise look one level down.
const child = spawn('/bin/sh', ['-c', startScript], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
let alive = true;
void exited.then(() => (alive = false));
const lastLines: string[] = [];
const keep = (line: string) => (lastLines.push(line), lastLines.length > 20 && lastLines.shift());
type Probe = NodeJS.MemoryUsage & { spaces: Record<string, number> };
const probeWaiters: ((m: Probe) => void)[] = [];
readline.createInterface({ input: child.stderr! }).on('line', (line) => {
  if (line.startsWith('BENCH_MEMORY ')) probeWaiters.shift()?.(JSON.parse(line.slice('BENCH_MEMORY '.length)) as Probe);
  else keep(line);
});
let logLines = 0;
const listening = new Promise<string>((resolve) =>
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    logLines++;
    keep(line);
    const url = /"url":"(http:\/\/[^"]+)".*Berth is listening/.exec(line)?.[1];
    if (url) resolve(url);
  }),
);

async function stopServer(): Promise<void> {
  if (!alive) return;
  if (pid) process.kill(pid, 'SIGTERM');
  else child.kill('SIGTERM');
  const timer = setTimeout(() => alive && child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms)));
  const died = exited.then((code) => Promise.reject(new Error(`the server exited (${code}) during ${what}:\n${lastLines.join('\n')}`)));
  try {
    return await Promise.race([promise, timeout, died]);
  } finally {
    clearTimeout(timer);
  }
}

/** VmRSS, and its anonymous part (heaps: V8's and malloc's) as opposed to mapped files (node's own code). */
/** The node process: the child itself when sh exec'd it, else the child's own child. */
function findServerPid(): number {
  const comm = fs.readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim();
  if (comm === 'node') return child.pid!;
  const children = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const node = children.find((c) => fs.readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'node');
  if (!node) throw new Error(`no node process under the start script (${startScript})`);
  return node;
}
let pid = 0;

function vmRss(): { rss: number; anon: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

interface Sample {
  requests: number;
  rss: number;
  anon: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  seconds: number;
}
const samples: Sample[] = [];
const t0 = performance.now();
async function sample(requests: number): Promise<void> {
  const { rss, anon } = vmRss();
  const memory = await within(new Promise<Probe>((resolve) => (probeWaiters.push(resolve), process.kill(pid, 'SIGUSR2'))), 10_000, 'the memory probe');
  const s = { requests, rss, anon, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, seconds: (performance.now() - t0) / 1000 };
  samples.push(s);
  console.log(
    `${String(requests).padStart(7)} requests: RSS ${MiB(s.rss).padStart(6)} MiB (anonymous ${MiB(s.anon)}), heap used ${MiB(s.heapUsed).padStart(5)} MiB` +
      ` (heap total ${MiB(s.heapTotal)}, external ${MiB(s.external)})${FORCE_GC ? ' after a full GC' : ''}, ${s.seconds.toFixed(0)} s`,
  );
  if (SPACES) console.log(`         V8 spaces (MiB): ${Object.entries(memory.spaces).map(([name, bytes]) => `${name.replace(/_space$/, '')} ${MiB(bytes)}`).join(', ')}`);
}

// --- the request mix (deterministic: a seeded generator) ---
let seed = 42;
const random = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const SORTS = ['name', 'node', 'vmid', 'ip', 'owner', 'status', 'expires', 'updated'];
function nextPath(isAdmin: boolean): string {
  const vms = random() < 0.3;
  const p = new URLSearchParams();
  const r = random();
  if (r < 0.3) p.set('q', `${vms ? 'vm' : 'ct'}-0${Math.floor(random() * 100)}`);
  else if (r < 0.4) p.set('q', pick(['lab', 'example', '10.0.1', 'bc:24:11:00', 'service 4', 'nomatch-xyz']));
  if (random() < 0.25) p.set('tag', pick(['prod', 'web', 'ci', 'lab', 'ai']));
  if (random() < 0.15) p.set('status', pick(['running', 'stopped']));
  if (random() < 0.15) p.set('expiring', String(pick([7, 30, 90, 365])));
  if (random() < 0.05) p.set('expired', '1');
  if (isAdmin && random() < 0.1) p.set('node', String(1 + Math.floor(random() * 3)));
  if (isAdmin && random() < 0.1) p.set('owner', pick(owners));
  if (isAdmin && !vms && random() < 0.05) p.set('unowned', '1');
  if (random() < 0.5) p.set('sort', pick(SORTS));
  if (random() < 0.3) p.set('dir', 'desc');
  const per = pick([10, 25, 50, 50, 100, 200]);
  p.set('per', String(per));
  // Pages past the last one are part of the mix (a stale bookmark): the server answers them too.
  if (random() < 0.5) p.set('page', String(1 + Math.floor(random() * (isAdmin ? 10_000 / per : 5))));
  return `${vms ? '/vms' : '/containers'}?${p}`;
}

// --- the run ---
let failed: unknown;
try {
  const base = await within(listening, 60_000, 'startup');
  pid = findServerPid();
  await sample(0);
  const adminCookie = await loginCookie(base, admin, password);
  const userCookie = await loginCookie(base, user, password);
  console.log(`server: pid ${pid}, ${base}; npm start's script: ${startScript}; extra node flags: ${[...NODE_FLAGS, ...(FORCE_GC ? ['--expose-gc'] : [])].join(' ') || 'none'}; extra env: ${process.env.BENCH_SERVER_ENV || 'none'}`);
  console.log(`${REQUESTS} list requests (70% /containers, 30% /vms; 2 in 3 as admin, 1 in 3 as ${user}) at concurrency ${CONCURRENCY}:`);
  const statuses = new Map<number, number>();
  let started = 0;
  let done = 0;
  let sampling: Promise<void> = Promise.resolve();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started < REQUESTS) {
        const isAdmin = started++ % 3 !== 2;
        const listPath = nextPath(isAdmin);
        // redirect: manual: a lost session answers with a redirect to the login page, not a list.
        const res = await within(fetch(base + listPath, { redirect: 'manual', headers: { cookie: isAdmin ? adminCookie : userCookie, accept: 'text/html' } }), 60_000, 'a list request');
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${listPath} as ${isAdmin ? admin : user}: HTTP ${res.status} ${res.headers.get('location') ?? ''}: the figures would not be list traffic`);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (++done % EVERY === 0) {
          const n = done;
          sampling = sampling.then(() => sample(n));
        }
      }
    }),
  );
  await sampling;
  const elapsed = (performance.now() - t0) / 1000;
  console.log(`HTTP statuses: ${[...statuses].map(([s, n]) => `${s} × ${n}`).join(', ')}; ${(REQUESTS / elapsed).toFixed(0)} requests/s; ${logLines} server log lines`);
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const peak = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
  const secondHalf = samples.slice(Math.floor(samples.length / 2));
  const spread = Math.max(...secondHalf.map((s) => s.rss)) - Math.min(...secondHalf.map((s) => s.rss));
  console.log(
    `[${label}] RSS ${MiB(first.rss)} MiB at start → ${MiB(last.rss)} MiB after ${REQUESTS} requests (peak ${MiB(peak.rss)} MiB at ${peak.requests}); ` +
      `over the second half of the run RSS moved within ${MiB(spread)} MiB; heap used ${MiB(first.heapUsed)} → ${MiB(last.heapUsed)} MiB`,
  );
} catch (err) {
  failed = err;
} finally {
  await stopServer();
  await cleanup();
}
if (failed) {
  console.error(failed);
  process.exitCode = 1;
}
