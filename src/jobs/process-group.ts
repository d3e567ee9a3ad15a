import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';

/**
 * The launcher a job runs under when a reaper is present: it registers its own process group (its
 * pid: it leads a new group) on fd 3, the reaper's pipe, closes fd 3 and only then execs the job's
 * argv, passed as positional parameters (never interpolated into the script). So the registration
 * happens before any of the job's own code runs, and the reaper, which acts on end-of-file, cannot
 * miss it: while the launcher holds its copy of the pipe the reaper sees no end-of-file, even if the
 * runner is already dead.
 */
const LAUNCHER_SCRIPT = 'printf "+%s\\n" "$$" >&3; exec "$@" 3>&-';

/**
 * Spawns argv (no shell) as the leader of a new process group, so the job and everything it starts
 * can be signalled together. stdin is closed; stdout and stderr are pipes. `env` is the child's whole
 * environment (required: an absent env would hand it the runner's own, secrets included). With a
 * `reaper`, argv runs under the launcher above, registered with the reaper before it starts.
 */
export function spawnGroup(argv: string[], options: { cwd?: string; env: Record<string, string>; reaper?: Reaper | null }): ChildProcess {
  const [file, ...args] = argv;
  if (!file) throw new Error('empty argv');
  const { cwd, env, reaper } = options;
  if (!reaper) return spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // The shell exports a PWD of its own; the job's environment is the allow-list and nothing else.
  const script = 'PWD' in env ? LAUNCHER_SCRIPT : `unset PWD; ${LAUNCHER_SCRIPT}`;
  return spawn('/bin/sh', ['-c', script, 'berth-job', file, ...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe', reaper.pipe] });
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
  await awaitGroupGone(pgid, graceMs);
}

/**
 * Waits until group `pgid` is gone, at most `timeoutMs`; then SIGKILLs whatever is left and waits a
 * little more for it. Used once a job's leader has exited while the job was being ended: the group,
 * not the leader, decides when the job is over.
 */
export async function awaitGroupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && groupAlive(pgid)) await new Promise((r) => setTimeout(r, 50));
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && groupAlive(pgid)) await new Promise((r) => setTimeout(r, 20));
}

/**
 * The reaper: a tiny sidecar (POSIX sh, its own session and process group, about 1 MiB instead of
 * a second node) that reads the read end of a pipe. Each job's launcher writes "+<pgid>" on it before
 * the job starts; the runner writes "-<pgid>" once a group is gone. When every write end is closed —
 * the runner died, even by SIGKILL, or stopped — it SIGKILLs every group still registered, so no job
 * outlives its runner. It ignores SIGTERM/SIGINT/SIGHUP (a terminal's Ctrl-C or a stop of the runner
 * must not make it quit first). Every number is validated: digits only, no leading zero, at most 7
 * digits (pid_max is at most 4194304), above 1, so a garbled line can never become `kill -- -1` (every
 * process) or `kill -- -0` (its own group). Groups are a list, not a set: a pgid reused by a new job
 * before the old "-" arrives stays registered once. (Under systemd, KillMode=control-group also
 * kills everything.)
 */
const REAPER_SCRIPT = `
trap '' TERM INT HUP
groups=' '
while IFS= read -r line; do
  sign=\${line%"\${line#?}"}
  n=\${line#?}
  case $n in ''|0*|*[!0-9]*|????????*) continue ;; esac
  [ "$n" -gt 1 ] || continue
  case $sign in
    +) groups="$groups$n " ;;
    -) case $groups in *" $n "*) groups="\${groups%%" $n "*} \${groups#*" $n "}" ;; esac ;;
  esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
`;

export interface Reaper {
  /** The write end of the reaper's pipe; each job's launcher gets a copy as fd 3. */
  pipe: Writable;
  /** False once the reaper process has exited (a job must not start unprotected). */
  readonly alive: boolean;
  /** Tells the reaper that group `pgid` is gone, so a later reuse of the number is never killed. */
  remove(pgid: number): void;
  /** Closes the pipe; the reaper exits (killing whatever is still registered). */
  close(): void;
  pid: number | undefined;
}

/** Starts the reaper sidecar (see REAPER_SCRIPT). */
export function startReaper(): Reaper {
  // An empty environment: the script uses only shell builtins.
  const child = spawn('/bin/sh', ['-c', REAPER_SCRIPT, 'berth-reaper'], { detached: true, env: {}, stdio: ['pipe', 'ignore', 'ignore'] });
  child.unref();
  let alive = child.pid !== undefined;
  child.once('exit', () => (alive = false));
  child.once('error', () => (alive = false));
  const pipe = child.stdin!;
  pipe.on('error', () => {});
  // The pipe must not keep the runner's event loop alive on its own.
  (pipe as Writable & { unref?: () => void }).unref?.();
  return {
    pid: child.pid,
    pipe,
    get alive() {
      return alive && !pipe.destroyed && !pipe.writableEnded;
    },
    remove: (pgid) => {
      if (!pipe.destroyed && !pipe.writableEnded) pipe.write(`-${pgid}\n`);
    },
    close: () => pipe.end(),
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
