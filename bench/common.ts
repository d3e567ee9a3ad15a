// Shared setup for the benchmarks: a fresh database (temporary SQLite file, or BENCH_DATABASE_URL
// — a MariaDB URL whose database exists and may be emptied), migrated, and quiet logs.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../config/index.js';
import { openDatabase, type Db } from '../src/database.js';
import { createLogger } from '../src/lib/logger.js';
import { JobRunner, runnerOptionsFromConfig } from '../src/jobs/runner.js';

export async function benchDb(overrides: Record<string, string> = {}): Promise<{ db: Db; config: Config; url: string; cleanup(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const url = process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(dir, 'bench.db')}`;
  const config = loadConfig({
    dotenv: false,
    env: { DATABASE_URL: url, SESSION_SECRET: 'bench-session-secret-that-is-long-enough-123', DATA_DIR: dir, LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '1000000', ...overrides },
  });
  const db = await openDatabase(config);
  await db.models.Job.destroy({ where: {} });
  await db.models.JobRunner.destroy({ where: {} });
  return { db, config, url, cleanup: async () => (await db.close(), fs.rmSync(dir, { recursive: true, force: true })) };
}

export function runner(db: Db, config: Config, overrides: Partial<ConstructorParameters<typeof JobRunner>[0]> = {}): JobRunner {
  return new JobRunner({ ...runnerOptionsFromConfig(config, { sequelize: db.sequelize, models: db.models, logger: createLogger('silent') }), ...overrides });
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export const dialectLabel = (config: Config) => (config.database.dialect === 'sqlite' ? 'SQLite' : 'MariaDB');

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface RunnerProcess {
  proc: ChildProcess;
  /** SQL statements the runner sent so far (LOG_LEVEL=trace logs each one). */
  statements: string[];
  stop(): Promise<number | null>;
}

/**
 * Starts the job runner the way it is deployed: its own process (`node --import tsx job-runner.ts`,
 * the same code as dist/job-runner.js), on the benchmark's database. With `countStatements` it runs at
 * LOG_LEVEL=trace and every SQL statement it sends is collected.
 */
export async function startRunnerProcess(url: string, env: Record<string, string> = {}, countStatements = false): Promise<RunnerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'job-runner.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: url,
      SESSION_SECRET: 'bench-session-secret-that-is-long-enough-123',
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-runner-')),
      LOG_LEVEL: countStatements ? 'trace' : 'info',
      UV_THREADPOOL_SIZE: '16',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const statements: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      let entry: { msg?: string; sql?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg === 'sql' && entry.sql) statements.push(entry.sql);
      if (entry.msg === 'job runner started') resolve();
    });
    void exited.then((code) => reject(new Error(`the runner process exited (${code}) before it started`)));
  });
  await started;
  return {
    proc,
    statements,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Groups SQL statements by what sent them, for the idle query rate. */
export function classifyStatements(statements: string[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const sql of statements) {
    const kind = /berth-wake/.test(sql)
      ? 'wake wait'
      : /JobRunners|status` = 'running'|status = 'running'/.test(sql)
        ? 'heartbeat/recovery'
        : /FOR UPDATE|START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SET SESSION TRANSACTION|status` = 'pending'|status = 'pending'/i.test(sql)
          ? 'claim'
          : 'other';
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

/**
 * A benchmark that printed its figures must end. If something still holds the event loop after
 * `graceMs`, name it and exit 1 instead of hanging (the timer itself does not keep the process alive).
 */
export function exitWhenDone(graceMs = 10_000): void {
  setTimeout(() => {
    console.error(`bench: still running ${graceMs} ms after it finished; open handles: ${process.getActiveResourcesInfo().join(', ')}`);
    process.exit(1);
  }, graceMs).unref();
}
