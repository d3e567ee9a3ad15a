// Shared setup for the benchmarks: a fresh database (temporary SQLite file, or BENCH_DATABASE_URL
// — a MariaDB URL whose database exists and may be emptied), migrated, and quiet logs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../config/index.js';
import { openDatabase, type Db } from '../src/lib/db/index.js';
import { createLogger } from '../src/lib/logger.js';
import { JobRunner, runnerOptionsFromConfig } from '../src/jobs/runner.js';

export async function benchDb(overrides: Record<string, string> = {}): Promise<{ db: Db; config: Config; cleanup(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const url = process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(dir, 'bench.db')}`;
  const config = loadConfig({
    dotenv: false,
    env: { DATABASE_URL: url, SESSION_SECRET: 'bench-session-secret-that-is-long-enough-123', DATA_DIR: dir, LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '1000000', ...overrides },
  });
  const db = await openDatabase(config);
  await db.models.Job.destroy({ where: {} });
  await db.models.JobRunner.destroy({ where: {} });
  return { db, config, cleanup: async () => (await db.close(), fs.rmSync(dir, { recursive: true, force: true })) };
}

export function runner(db: Db, config: Config, overrides: Partial<ConstructorParameters<typeof JobRunner>[0]> = {}): JobRunner {
  return new JobRunner({ ...runnerOptionsFromConfig(config, { sequelize: db.sequelize, models: db.models, logger: createLogger('silent') }), ...overrides });
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export const dialectLabel = (config: Config) => (config.database.dialect === 'sqlite' ? 'SQLite' : 'MariaDB');
