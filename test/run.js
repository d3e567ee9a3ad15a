// Runs the suite by tier (test/support/tiers.js), each tier as often as the database matters to it:
//   unit         test/unit/**         once, without a database
//   integration  test/integration/**  once per database: SQLite always; MariaDB when TEST_DATABASE_URL is
//                                     set, or by default when a MariaDB at 127.0.0.1:3306 accepts root with
//                                     no password (the developer machines' setup); TEST_DATABASE_URL=none
//                                     skips MariaDB
//   browser      test/e2e/**          once, on SQLite (Chromium)
// Arguments are passed to mocha: files or globs pick the tiers by their folders (a file outside the tier
// folders counts as integration); flags (--grep …) go to every run. With no file, the whole suite.
// Runs are sequential: the suite's runs share the machine's cores with the servers and Chromium they start.
// Prints each run's counts and wall time, the slowest test files (BERTH_TEST_SLOWEST, default 10, 0 for
// none: where to look when the suite gets slow), then one line "N passed, N failed" summed over all runs.
// A run never hangs: each mocha runs in its own process group, which is killed (and the run counted as
// failed, with the reason printed) when it takes longer than BERTH_TEST_RUN_LIMIT_MINUTES (default 25),
// or when it printed its results but did not exit within BERTH_TEST_EXIT_GRACE_SECONDS (default 300:
// something left a handle open, typically after a test failed midway).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { TIERS, tierGlob, tierOf } from './support/tiers.js';

const DEFAULT_MARIADB = 'mysql://root@127.0.0.1:3306/test';

// Mocha options followed by a value, so that `--grep test/unit` is not taken for a file.
const OPTIONS_WITH_VALUE = new Set([
  '-g', '--grep', '-f', '--fgrep', '-t', '--timeout', '-s', '--slow', '-R', '--reporter', '-O', '--reporter-option',
  '-r', '--require', '--file', '--ignore', '--exclude', '--extension', '--config', '--package', '-u', '--ui',
  '--retries', '-j', '--jobs', '--spec', '-n', '--node-option',
]);

/** Splits the arguments into test files/globs and mocha options. */
function splitArguments(args) {
  const files = [];
  const options = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith('-')) {
      options.push(arg);
      if (OPTIONS_WITH_VALUE.has(arg) && i + 1 < args.length) options.push(args[++i]);
    } else {
      files.push(arg);
    }
  }
  return { files, options };
}

async function mariadbAnswers(url) {
  try {
    const conn = await mysql.createConnection({ uri: url, connectTimeout: 2000 });
    await conn.end();
    return true;
  } catch {
    return false;
  }
}

/** The databases integration tests run on: SQLite, and MariaDB when one is configured or answers. */
async function integrationDatabases() {
  const explicit = process.env.TEST_DATABASE_URL;
  if (explicit && explicit !== 'none') return ['sqlite', explicit];
  if (!explicit && (await mariadbAnswers(DEFAULT_MARIADB))) return ['sqlite', DEFAULT_MARIADB];
  console.log(`MariaDB: not tested (${explicit === 'none' ? 'TEST_DATABASE_URL=none' : 'no MariaDB answered at 127.0.0.1:3306'}).`);
  return ['sqlite'];
}

/** The mocha runs to make, in tier order: label, files, and database (undefined for none). */
async function planRuns(args) {
  const { files, options } = splitArguments(args);
  const runs = [];
  for (const tier of TIERS) {
    const tierFiles = files.length ? files.filter((file) => tierOf(file) === tier.name) : [tierGlob(tier)];
    if (!tierFiles.length) continue;
    if (tier.databases === 'none') {
      runs.push({ label: tier.name, args: [...tierFiles, ...options], database: undefined });
      continue;
    }
    const databases = tier.databases === 'sqlite' ? ['sqlite'] : await integrationDatabases();
    for (const database of databases) {
      const label = `${tier.name} (${database === 'sqlite' ? 'SQLite' : 'MariaDB'})`;
      runs.push({ label, args: [...tierFiles, ...options], database });
    }
  }
  return runs;
}

const RUN_LIMIT_MS = Number(process.env.BERTH_TEST_RUN_LIMIT_MINUTES || 25) * 60_000;
const EXIT_GRACE_MS = Number(process.env.BERTH_TEST_EXIT_GRACE_SECONDS || 300) * 1000;

let running;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // The run is in its own process group, which a terminal's Ctrl-C no longer reaches: pass it on.
    if (running) killGroup(running, 'SIGKILL');
    process.exit(130);
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

/** Runs mocha in its own process group; resolves with its exit status, or the reason it was ended. */
function runMocha(args, env, statsFile) {
  return new Promise((resolve) => {
    const child = spawn('npx', ['mocha', '--reporter', './test/support/reporter.cjs', ...args], { stdio: 'inherit', env, detached: true });
    running = child;
    let reason;
    const end = (why) => {
      reason ??= why;
      killGroup(child, 'SIGKILL');
    };
    const limit = setTimeout(() => end(`did not finish within ${RUN_LIMIT_MS / 60_000} min`), RUN_LIMIT_MS);
    let resultsAt;
    const watch = setInterval(() => {
      if (resultsAt === undefined && fs.existsSync(statsFile)) resultsAt = Date.now();
      if (resultsAt !== undefined && Date.now() - resultsAt > EXIT_GRACE_MS) {
        end(`printed its results but did not exit within ${EXIT_GRACE_MS / 1000} s (a handle left open)`);
      }
    }, 250);
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      clearInterval(watch);
      if (resultsAt !== undefined && Date.now() - resultsAt > 5000 && !reason) {
        console.log(`(mocha took ${((Date.now() - resultsAt) / 1000).toFixed(0)} s to exit after its results)`);
      }
      // The group may still hold processes the run started and forgot: end them with it.
      killGroup(child, 'SIGKILL');
      running = undefined;
      resolve({ status: code ?? signal, reason });
    });
  });
}

/** "14 s", "4 min 02 s". */
function formatDuration(ms) {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

const countsText = (c) => `${c.passes} passed, ${c.failures} failed${c.pending ? `, ${c.pending} skipped` : ''}`;

const started = Date.now();
const runs = await planRuns(process.argv.slice(2));
const totals = { passes: 0, failures: 0, pending: 0 };
/** Wall time per test file and run, for the slowest-files list. */
const fileTimes = [];
const summary = [];
let failedRun = false;
for (const run of runs) {
  console.log(`\n=== ${run.label} ===`);
  const statsFile = path.join(os.tmpdir(), `berth-test-stats-${process.pid}-${run.label.replace(/\W+/g, '-')}.json`);
  fs.rmSync(statsFile, { force: true });
  // As package.json's start script and the systemd units: node-sqlite3 waits for the write lock on libuv's pool threads (docs/deploy.md).
  const env = { UV_THREADPOOL_SIZE: '16', ...process.env, BERTH_TEST_STATS: statsFile };
  if (run.database) env.BERTH_TEST_DATABASE = run.database;
  else delete env.BERTH_TEST_DATABASE;
  const runStarted = Date.now();
  const result = await runMocha(run.args, env, statsFile);
  const took = formatDuration(Date.now() - runStarted);
  if (result.reason) {
    console.log(`\n${run.label}: mocha ${result.reason}; it was ended and the run counts as failed.`);
    failedRun = true;
  }
  if (!fs.existsSync(statsFile)) {
    console.log(`${run.label}: mocha ended without results (exit ${result.status}).`);
    summary.push(`${run.label}: no results, ${took}`);
    failedRun = true;
    continue;
  }
  const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
  fs.rmSync(statsFile, { force: true });
  totals.passes += stats.passes;
  totals.failures += stats.failures;
  totals.pending += stats.pending;
  for (const [file, ms] of Object.entries(stats.fileMs ?? {})) fileTimes.push({ file: path.relative(process.cwd(), file), run: run.label, ms });
  if (result.status !== 0) failedRun = true;
  summary.push(`${run.label}: ${countsText(stats)}, ${took}`);
}

const SLOWEST = Number(process.env.BERTH_TEST_SLOWEST ?? 10);
if (SLOWEST > 0 && fileTimes.length > 1) {
  const slowest = fileTimes.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST);
  console.log(`\nSlowest test files:\n${slowest.map((f) => `  ${formatDuration(f.ms).padStart(9)}  ${f.file} (${f.run})`).join('\n')}`);
}
console.log(`\n${summary.join('\n')}`);
console.log(`total: ${countsText(totals)}, ${formatDuration(Date.now() - started)}`);
console.log(`\n${countsText(totals)}`);
process.exit(failedRun || totals.failures > 0 ? 1 : 0);
