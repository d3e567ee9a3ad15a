import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../config/index.js';
import type { Db } from '../../src/lib/db/index.js';
import type { ScratchDatabase } from './databases.js';

/** The run's shared database (created and migrated once by the root hook) and its config. */
export interface TestContext {
  scratch: ScratchDatabase;
  db: Db;
  config: Config;
}

let current: TestContext | undefined;

export function setTestContext(ctx: TestContext | undefined): void {
  current = ctx;
}

export function testContext(): TestContext {
  if (!current) throw new Error('the test database is not ready (is test/support/root-hooks.ts loaded?)');
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
      ...overrides,
    },
  });
}
