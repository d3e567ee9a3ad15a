import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { isFinalJobStatus } from '../../models/Job.js';
import type { Job } from '../../models/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { projectRoot } from '../../src/lib/paths.js';
import { JobRunner, type RunnerOptions } from '../../src/jobs/runner.js';
import { createJob } from '../factories/jobs.js';
import { testContext } from './context.js';
import { track } from './resources.js';

/** Fast defaults for tests: short poll, heartbeat and grace. */
export function runnerOptions(overrides: Partial<RunnerOptions> = {}): RunnerOptions {
  const { db, config } = testContext();
  return {
    config,
    sequelize: db.sequelize,
    models: db.models,
    logger: createLogger('silent'),
    concurrency: 4,
    pollMs: 50,
    heartbeatSeconds: 1,
    staleSeconds: 5,
    defaultTimeoutSeconds: 60,
    cancelGraceSeconds: 2,
    outputMaxBytes: 10 * 1024 * 1024,
    outputFlushMs: 50,
    outputBufferMaxBytes: 16 * 1024 * 1024,
    ...overrides,
  };
}

/** Starts an in-process runner, tracked until stopped. */
export async function startRunner(overrides: Partial<RunnerOptions> = {}): Promise<JobRunner & { close(): Promise<void> }> {
  const runner = new JobRunner(runnerOptions(overrides));
  await runner.start();
  const untrack = track(`job runner ${runner.id}`, () => runner.stop('test cleanup'));
  return Object.assign(runner, { close: () => untrack() });
}

/** Polls until job `id` reaches a final status (or `until` matches); returns the row. */
export async function waitForJob(id: number, timeoutMs = 20_000, until: (job: Job) => boolean = (j) => isFinalJobStatus(j.status)): Promise<Job> {
  const { models } = testContext().db;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await models.Job.findByPk(id);
    if (job && until(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not get there in ${timeoutMs} ms (status ${job?.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The job's stored output, concatenated in seq order (optionally one stream only). */
export async function jobOutput(id: number, stream?: string): Promise<string> {
  const rows = await testContext().db.models.JobOutput.findAll({ where: { jobId: id, ...(stream ? { stream } : {}) }, order: [['seq', 'ASC']], raw: true });
  return rows.map((r) => r.output ?? '').join('');
}

/** Inserts a job as the seed's SQL would (command only). */
export async function insertShellJob(command: string, extra: Partial<{ timeoutSeconds: number; createdBy: string }> = {}): Promise<number> {
  const job = await createJob({ command, createdBy: extra.createdBy ?? null, timeoutSeconds: extra.timeoutSeconds ?? null });
  return job.id;
}

export interface RunnerProcess {
  /** The runner's id, as in its JobRunners row. */
  runnerId: string;
  proc: ChildProcess;
  lines: Array<Record<string, any>>;
  /** Resolves with the log line whose msg matches. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, any>>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a real job-runner.ts process on the run's database; tracked (SIGKILLed if left running).
 * `nodeArgs` go before the script (e.g. `--import` of a preload module such as skewed-clock.ts).
 */
export async function startRunnerProcess(env: Record<string, string> = {}, options: { nodeArgs?: string[] } = {}): Promise<RunnerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...(options.nodeArgs ?? []), 'job-runner.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: testContext().scratch.url,
      SESSION_SECRET: 'test-session-secret-that-is-long-enough-1234567890',
      LOG_LEVEL: 'info',
      JOB_RUNNER_POLL_MS: '50',
      JOB_HEARTBEAT_SECONDS: '1',
      JOB_STALE_SECONDS: '4',
      JOB_CANCEL_GRACE_SECONDS: '2',
      // A runner started after 08:00 in TZ would scan the shared database at once; tests of the scan ask for it.
      EXPIRY_SCAN_TIME: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, any>> = [];
  const waiters: Array<{ msg: string; resolve(l: Record<string, any>): void }> = [];
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line);
      lines.push(entry);
      for (const w of [...waiters]) if (entry.msg === w.msg) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    } catch {
      /* not a log line */
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const waitForLog = (msg: string, timeoutMs = 30_000) => {
    const seen = lines.find((l) => l.msg === msg);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`runner did not log '${msg}' in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      waiters.push({ msg, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  };
  const untrack = track(`runner process ${proc.pid}`, async () => {
    proc.kill('SIGKILL');
    await exited;
  });
  const { runnerId } = await waitForLog('job runner started');
  return {
    runnerId,
    proc,
    lines,
    waitForLog,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      proc.kill(signal);
      const code = await exited;
      await untrack();
      return code;
    },
  };
}

/** A sink for a logger whose lines a test wants to inspect. */
export function captureLogs(): { lines: Array<Record<string, any>>; stream: Writable } {
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, stream };
}

/** True while any process of group `pgid` is alive (zombies waiting for init to reap them do not count). */
export function groupAlive(pgid: number): boolean {
  const ps = spawnSync('ps', ['-e', '-o', 'pgid=,stat='], { encoding: 'utf8' });
  return ps.stdout.split('\n').some((line) => {
    const [group, stat] = line.trim().split(/\s+/);
    return Number(group) === pgid && !!stat && !stat.startsWith('Z');
  });
}

/** Waits until the job's stored output matches `pattern`. */
export async function waitForOutput(id: number, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(await jobOutput(id));
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`job ${id} never printed ${pattern}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
