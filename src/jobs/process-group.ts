import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Spawns argv (no shell) as the leader of a new process group, so the job and everything it starts
 * can be signalled together. stdin is closed; stdout and stderr are pipes. `env` is the child's whole
 * environment (required: an absent env would hand it the runner's own, secrets included).
 */
export function spawnGroup(argv: string[], options: { cwd?: string; env: Record<string, string> }): ChildProcess {
  const [file, ...args] = argv;
  if (!file) throw new Error('empty argv');
  return spawn(file, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Sends `signal` to the whole process group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while any process of group `pgid` is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends group `pgid`: SIGTERM, then SIGKILL after `graceMs` if anything of it is still alive.
 * Resolves once the group is gone (or after the SIGKILL and a short wait).
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pgid)) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && groupAlive(pgid)) await new Promise((r) => setTimeout(r, 20));
}

/**
 * The reaper: a tiny sidecar process (own process group, plain node, no shell) that holds the read
 * end of a pipe from the runner. The runner tells it which job process groups are alive; if the
 * runner dies — even by SIGKILL — the pipe hits end-of-file and the reaper SIGKILLs every group it
 * still knows, so no job outlives its runner. (Under systemd, KillMode=control-group does the same.)
 */
const REAPER_SOURCE = `
const groups = new Set();
let buf = '';
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => {});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    const n = Number(line.slice(1));
    if (!Number.isInteger(n) || n <= 1) continue;
    if (line[0] === '+') groups.add(n); else if (line[0] === '-') groups.delete(n);
  }
});
process.stdin.on('end', () => {
  for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch {} }
  process.exit(0);
});
`;

export interface Reaper {
  add(pgid: number): void;
  remove(pgid: number): void;
  /** Closes the pipe; the reaper exits (killing whatever is still registered). */
  close(): void;
  pid: number | undefined;
}

export function startReaper(): Reaper {
  const child = spawn(process.execPath, ['-e', REAPER_SOURCE], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.unref();
  child.stdin?.on('error', () => {});
  const send = (line: string) => {
    if (child.stdin && !child.stdin.destroyed) child.stdin.write(`${line}\n`);
  };
  return {
    pid: child.pid,
    add: (pgid) => send(`+${pgid}`),
    remove: (pgid) => send(`-${pgid}`),
    close: () => child.stdin?.end(),
  };
}

/**
 * The environment a job's process starts with: the allow-listed base the runner was configured with
 * (config.jobEnv: PATH, HOME, LANG, TZ and JOB_ENV_PASSTHROUGH) and the variables the task itself
 * sets. Never derived from the runner's process.env, so a secret it holds cannot leak by its name.
 */
export function childEnv(base: Readonly<Record<string, string>>, taskEnv: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { ...base, ...taskEnv };
}
