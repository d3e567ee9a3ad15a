import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/lib/paths.js';

/** bin/berth-edge-pull, as the tests run it. */
export const EDGE_PULL_SCRIPT = path.join(projectRoot, 'bin/berth-edge-pull');

export interface EdgePullRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs bin/berth-edge-pull with `sh` (argv, no shell string) and only PATH plus `env`, as cron would;
 * killed after `timeoutMs` (its exit code is then null).
 */
export function runEdgePull(env: Record<string, string>, args: string[] = [], timeoutMs = 60_000): Promise<EdgePullRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [EDGE_PULL_SCRIPT, ...args], { cwd: projectRoot, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
