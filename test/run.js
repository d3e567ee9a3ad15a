// Runs the mocha suite once per database: SQLite always; MariaDB when TEST_DATABASE_URL is set, or by
// default when a MariaDB at 127.0.0.1:3306 accepts root with no password (the developer machines' setup).
// TEST_DATABASE_URL=none skips MariaDB. Arguments are passed to mocha (files, --grep …).
// Ends with one line "N passed, N failed" summed over both runs.
// A run never hangs: each database's mocha runs in its own process group, which is killed (and the run
// counted as failed, with the reason printed) when it takes longer than BERTH_TEST_RUN_LIMIT_MINUTES
// (default 25), or when it printed its results but did not exit within BERTH_TEST_EXIT_GRACE_SECONDS
// (default 300: something left a handle open, typically after a test failed midway).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';

const DEFAULT_MARIADB = 'mysql://root@127.0.0.1:3306/test';

async function mariadbAnswers(url) {
  try {
    const conn = await mysql.createConnection({ uri: url, connectTimeout: 2000 });
    await conn.end();
    return true;
  } catch {
    return false;
  }
}

const targets = ['sqlite'];
const explicit = process.env.TEST_DATABASE_URL;
if (explicit && explicit !== 'none') targets.push(explicit);
else if (!explicit && (await mariadbAnswers(DEFAULT_MARIADB))) targets.push(DEFAULT_MARIADB);
else console.log(`MariaDB: not tested (${explicit === 'none' ? 'TEST_DATABASE_URL=none' : 'no MariaDB answered at 127.0.0.1:3306'}).`);

// With no arguments, the whole suite; otherwise what the caller named (files, --grep …).
const SUITE = ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'];
const mochaArgs = process.argv.length > 2 ? process.argv.slice(2) : SUITE;

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

const totals = { passes: 0, failures: 0, pending: 0 };
let failedRun = false;
for (const target of targets) {
  const label = target === 'sqlite' ? 'SQLite' : 'MariaDB';
  console.log(`\n=== ${label} ===`);
  const statsFile = path.join(os.tmpdir(), `berth-test-stats-${process.pid}-${label}.json`);
  fs.rmSync(statsFile, { force: true });
  const result = await runMocha(mochaArgs, { ...process.env, BERTH_TEST_DATABASE: target, BERTH_TEST_STATS: statsFile }, statsFile);
  if (result.reason) {
    console.log(`\n${label}: mocha ${result.reason}; it was ended and the run counts as failed.`);
    failedRun = true;
  }
  if (!fs.existsSync(statsFile)) {
    console.log(`${label}: mocha ended without results (exit ${result.status}).`);
    failedRun = true;
    continue;
  }
  const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
  totals.passes += stats.passes;
  totals.failures += stats.failures;
  totals.pending += stats.pending;
  if (result.status !== 0) failedRun = true;
  console.log(`${label}: ${stats.passes} passed, ${stats.failures} failed`);
}

console.log(`\n${totals.passes} passed, ${totals.failures} failed${totals.pending ? `, ${totals.pending} skipped` : ''}`);
process.exit(failedRun || totals.failures > 0 ? 1 : 0);
