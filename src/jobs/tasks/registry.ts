import type { Sequelize } from 'sequelize';
import type { z } from 'zod';
import type { Config } from '../../../config/index.js';
import type { Models } from '../../../models/index.js';
import type { Logger } from '../../lib/logger.js';
import type { Auditor } from '../../audit/index.js';

/** What an in-process task can do while it runs. */
export interface TaskContext {
  jobId: number;
  /** Writes text to the job's stdout / stderr (line-split and stored like a child's output). */
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted on cancel, timeout or runner shutdown. */
  signal: AbortSignal;
  /** The runner's database and configuration, for tasks that read or write Berth's own records. */
  models: Models;
  sequelize: Sequelize;
  /** Undefined only for runners built without one (some tests); tasks that need it say so. */
  config: Config | undefined;
  /** Writes audit events for the changes a task makes (the runner's audit file, or the database only). */
  auditor: Auditor;
  logger: Logger;
}

/** A task that runs an external program: argv only, never a shell string built from input. */
export interface ExecTask<S extends z.ZodType = z.ZodType> {
  name: string;
  kind: 'exec';
  schema: S;
  /** Only admins may enqueue it (the raw shell command). */
  adminOnly?: boolean;
  /** The program and its arguments. */
  argv(params: z.infer<S>): string[];
  /** Variables the program needs, on top of the runner's allow-listed base (childEnv). */
  env?(params: z.infer<S>): Record<string, string>;
  /** One line describing the job, stored in Jobs.command. */
  describe(params: z.infer<S>): string;
}

/** A task that runs as a function in the runner's process. */
export interface FunctionTask<S extends z.ZodType = z.ZodType> {
  name: string;
  kind: 'function';
  schema: S;
  adminOnly?: boolean;
  run(params: z.infer<S>, ctx: TaskContext): Promise<void>;
  describe(params: z.infer<S>): string;
}

export type Task<S extends z.ZodType = z.ZodType> = ExecTask<S> | FunctionTask<S>;

const tasks = new Map<string, Task>();

/** Registers a named task; its parameters are validated by `schema` at enqueue and again at run. */
export function registerTask<S extends z.ZodType>(task: Task<S>): void {
  tasks.set(task.name, task as unknown as Task);
}

export function getTask(name: string): Task | undefined {
  return tasks.get(name);
}

export function taskNames(): string[] {
  return [...tasks.keys()].sort();
}
