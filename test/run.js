// Runs the mocha suite once per database: SQLite always; MariaDB when TEST_DATABASE_URL is set, or by
// default when a MariaDB at 127.0.0.1:3306 accepts root with no password (the developer machines' setup).
// TEST_DATABASE_URL=none skips MariaDB. Arguments are passed to mocha (files, --grep …).
// Ends with one line "N passed, N failed" summed over both runs.
import { spawnSync } from 'node:child_process';
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

const totals = { passes: 0, failures: 0, pending: 0 };
let failedRun = false;
for (const target of targets) {
  const label = target === 'sqlite' ? 'SQLite' : 'MariaDB';
  console.log(`\n=== ${label} ===`);
  const statsFile = path.join(os.tmpdir(), `berth-test-stats-${process.pid}-${label}.json`);
  fs.rmSync(statsFile, { force: true });
  const result = spawnSync('npx', ['mocha', '--reporter', './test/support/reporter.cjs', ...mochaArgs], {
    stdio: 'inherit',
    env: { ...process.env, BERTH_TEST_DATABASE: target, BERTH_TEST_STATS: statsFile },
  });
  if (!fs.existsSync(statsFile)) {
    console.log(`${label}: mocha ended without results (exit ${result.status ?? result.signal}).`);
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
