import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { projectRoot } from '../../src/lib/paths.js';
import { testContext } from './context.js';
import { track } from './resources.js';

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  /** JSON log lines printed so far. */
  lines: Array<Record<string, any>>;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number | null>;
}

export interface ServerProcessOptions {
  /** The checkout to run in (default: this one). */
  cwd?: string;
  /** Run the compiled dist/server.js with plain node instead of server.ts through tsx. */
  compiled?: boolean;
  /** Leave DATA_DIR unset, so the server uses its default data directory. */
  defaultDataDir?: boolean;
}

/**
 * Starts a real Berth server process (server.ts through tsx, or the compiled dist/server.js) on a
 * free port with `env`, and waits until it logs that it is listening. Tracked: a test that forgets to
 * stop it fails.
 */
export async function startServerProcess(env: Record<string, string>, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const args = options.compiled ? ['dist/server.js'] : ['--import', 'tsx', 'server.ts'];
  const proc = spawn(process.execPath, args, {
    cwd: options.cwd ?? projectRoot,
    // The run's data directory (vault key, audit files) and test-sized limits: the rate-limit counters
    // live in the shared database, where the whole run's logins from 127.0.0.1 add up.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...(options.defaultDataDir ? {} : { DATA_DIR: testContext().config.DATA_DIR }),
      RATE_LIMIT_MAX: '100000',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, any>> = [];
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s: ${stderr}`)), 30_000);
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        lines.push(entry);
        if (entry.msg === 'Berth is listening') {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        /* not a log line */
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  const untrack = track(`server process ${url}`, async () => {
    proc.kill('SIGKILL');
    await exited;
  });
  return {
    url,
    proc,
    lines,
    async stop() {
      proc.kill('SIGTERM');
      const code = await exited;
      await untrack();
      return code;
    },
  };
}
