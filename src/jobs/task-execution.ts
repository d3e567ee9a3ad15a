import type { Readable } from 'node:stream';
import type { Job } from '../../models/index.js';
import { LineSplitter } from './line-splitter.js';
import type { OutputWriter } from './output-writer.js';
import { awaitGroupGone, signalGroup, spawnGroup, terminateGroup, type Reaper } from './process-group.js';
import { getTask, SHELL_TASK, type Task, type TaskContext } from './tasks/index.js';

/** How a job's work ended: an exit code (null if it never exited normally) and a failure message. */
export interface TaskOutcome {
  exitCode: number | null;
  failure: string | null;
}

/**
 * The task a job row names and its parameters, validated again at run time (the row may have been
 * written by hand). A row with only `command` (the seed's SQL) runs as the shell task.
 */
export function resolveTask(job: Job): { task: Task; params: unknown } {
  const name = job.task ?? SHELL_TASK;
  const task = getTask(name);
  if (!task) throw new Error(`unknown task '${name}'`);
  let raw: unknown;
  try {
    raw = name === SHELL_TASK && !job.task ? { command: job.command } : JSON.parse(job.params ?? '{}');
  } catch {
    throw new Error('the job parameters are not valid JSON');
  }
  const parsed = task.schema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid parameters for task '${name}': ${parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`);
  return { task, params: parsed.data };
}

export interface ExecOptions {
  cwd?: string;
  /** The child's whole environment (childEnv). */
  env: Record<string, string>;
  writer: OutputWriter;
  /** Filled with the child's pipes, so back-pressure can pause them. */
  streams: Readable[];
  /** Registers each job's process group before it starts (see spawnGroup); null runs jobs unprotected. */
  reaper: Reaper | null;
  graceMs: number;
  /** Called with the process group id once spawned; returns true if the job was ended meanwhile. */
  onStart(pgid: number): boolean;
  /** True once the job is being ended (cancel, timeout, shutdown): its group is being terminated. */
  isEnding(): boolean;
}

/**
 * Runs argv in its own process group, its stdout/stderr line-split into the job's output. When the
 * leader exits on its own, whatever it left running in its group is killed at once (no orphans).
 * When the job is being ended, the group has the grace period: `/bin/sh` exits at once on SIGTERM,
 * so the leader's exit says nothing about its children, and this waits for the group instead.
 */
export async function runExecTask(argv: string[], o: ExecOptions): Promise<TaskOutcome> {
  // Fail closed: without its reaper, a job could outlive a runner killed by SIGKILL.
  if (o.reaper && !o.reaper.alive) return { exitCode: null, failure: 'not started: the reaper process (which kills jobs if the runner dies) is gone' };
  const child = spawnGroup(argv, { cwd: o.cwd, env: o.env, reaper: o.reaper });
  const pgid = child.pid;
  const out = new LineSplitter((t) => o.writer.write('stdout', t));
  const err = new LineSplitter((t) => o.writer.write('stderr', t));
  o.streams.push(child.stdout!, child.stderr!);
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  // If an early end was requested before the pid was known, apply it now.
  if (pgid && o.onStart(pgid)) void terminateGroup(pgid, o.graceMs);
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', () => {
      if (pgid && !o.isEnding()) signalGroup(pgid, 'SIGKILL');
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  out.end();
  err.end();
  if (pgid) {
    // Being ended: the termination under way SIGKILLs the group after the grace; until the group is
    // gone the job is not over (and stays registered with the reaper). The deadline is a backstop.
    if (o.isEnding()) await awaitGroupGone(pgid, o.graceMs + 1000);
    o.reaper?.remove(pgid);
  }
  if (result.error) return { exitCode: null, failure: `could not start: ${result.error.message}` };
  if (result.signal) return { exitCode: null, failure: `killed by signal ${result.signal}` };
  return { exitCode: result.code, failure: result.code === 0 ? null : `exited with code ${result.code}` };
}

/** Runs an in-process task until it returns, throws, or `signal` aborts it (cancel, timeout, shutdown). */
export async function runFunctionTask(task: Extract<Task, { kind: 'function' }>, params: unknown, signal: AbortSignal, ctx: TaskContext): Promise<TaskOutcome> {
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  aborted.catch(() => {});
  await Promise.race([task.run(params, ctx), aborted]);
  return { exitCode: 0, failure: null };
}
