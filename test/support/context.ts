import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../config/index.js';
import type { Db } from '../../src/database.js';
import type { ScratchDatabase } from './databases.js';

/** The run's shared database (created and migrated once by the root hook) and its config. */
export interface TestContext {
  scratch: ScratchDatabase;
  db: Db;
  config: Config;
}

let current: TestContext | undefined;

/** Set by the root hooks once the run's database is migrated; cleared when it is dropped. */
export function setTestContext(ctx: TestContext | undefined): void {
  current = ctx;
}

/** Whether this run has a database (unit-only runs have none). */
export function hasTestContext(): boolean {
  return current !== undefined;
}

/** The run's database and config; throws in a run without a database (a unit-only run). */
export function testContext(): TestContext {
  if (!current) {
    throw new Error(
      'this run has no test database: unit and system tests (test/unit/, test/system/) run without one, so a test that needs it belongs in ' +
        'test/integration/ (otherwise: is test/support/root-hooks.ts loaded, and is this called inside a test or hook?)',
    );
  }
  return current;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-data-'));

/** Berth's config for tests: the given database, quiet logs, a fixed secret, overrides on top. */
export function testConfig(databaseUrl: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    dotenv: false,
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      SESSION_SECRET: 'test-session-secret-that-is-long-enough-1234567890',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      RATE_LIMIT_MAX: '100000',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      // Tests change EdgeState and tokens behind the app's back ("another instance"); the pull cache has its own test.
      EDGE_PULL_CACHE_MS: '0',
      // Every service or domain change publishes; nginx -t on each would cost most tests time for nothing.
      // The tests of the check (publish, edge-pull, nginx-check) ask for nginx themselves.
      EDGE_NGINX_BINARY: 'none',
      ...overrides,
    },
  });
}
