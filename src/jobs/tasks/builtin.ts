import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { registerTask } from './registry.js';

/**
 * The raw command: the only task that runs a shell, admin-only (POST /jobs {command}); also what a
 * row inserted by hand with only `command` runs as (Jobs.task NULL).
 */
export const SHELL_TASK = 'shell';

export const shellParams = z.object({ command: z.string().min(1).max(2000) });

registerTask({
  name: SHELL_TASK,
  kind: 'exec',
  adminOnly: true,
  schema: shellParams,
  argv: (p) => ['/bin/sh', '-c', p.command],
  describe: (p) => p.command,
});

/** Prints the given lines (in process): a trivial task for tests, benchmarks and smoke checks. */
registerTask({
  name: 'echo',
  kind: 'function',
  schema: z.object({ lines: z.array(z.string().max(10_000)).max(1000).default([]), stderr: z.boolean().default(false) }),
  describe: (p) => `echo (${p.lines.length} lines)`,
  run: async (p, ctx) => {
    for (const line of p.lines) (p.stderr ? ctx.stderr : ctx.stdout)(`${line}\n`);
  },
});

/** Waits (in process), honouring cancellation: for tests of timeouts and shutdown. */
registerTask({
  name: 'sleep',
  kind: 'function',
  schema: z.object({ seconds: z.number().min(0).max(24 * 3600) }),
  describe: (p) => `sleep ${p.seconds}s`,
  run: async (p, ctx) => {
    await sleep(p.seconds * 1000, undefined, { signal: ctx.signal });
  },
});
