// The per-container config file lock (`/run/lock/lxc/pve-config-<vmid>.lock`), which a resize
// worker holds for its whole run (README §9.1). Another call that needs the lock waits up to 10 s
// on a real node, then fails with "can't lock file ... - got timeout". Handlers here cannot wait,
// so they answer at once: the timeout when the holder would still run after those 10 s (a hung
// task, or a task duration that long), otherwise they go ahead as if the holder had just finished.
import type { SimCore } from './core.js';
import { die } from './errors.js';

/** How long lock_config waits for the file lock (pve-guest-common AbstractConfig.pm). */
export const CONFIG_LOCK_WAIT_MS = 10_000;

/** Record that the task `upid` holds the container's config file lock until it ends. */
export function holdConfigFile(core: SimCore, vmid: number, upid: string): void {
  core.state.configFileLocks.set(vmid, { upid, releaseAt: core.clock.now() + core.taskMs });
}

/** Release the lock if `upid` still holds it. */
export function releaseConfigFile(core: SimCore, vmid: number, upid: string): void {
  if (core.state.configFileLocks.get(vmid)?.upid === upid) core.state.configFileLocks.delete(vmid);
}

/** The lock-timeout message when a waiter would give up on the lock now, else null. */
export function configFileBusy(core: SimCore, vmid: number): string | null {
  const lock = core.state.configFileLocks.get(vmid);
  if (!lock) return null;
  if (core.tasks.tasks.get(lock.upid)?.status !== 'running') {
    core.state.configFileLocks.delete(vmid);
    return null;
  }
  const stuck = core.faults.hangTasks || core.faults.holdTaskLogs || lock.releaseAt - core.clock.now() > CONFIG_LOCK_WAIT_MS;
  return stuck ? `can't lock file '/run/lock/lxc/pve-config-${vmid}.lock' - got timeout` : null;
}

/** For a call that takes the lock synchronously (PUT config): a 500 with the lock-timeout message. */
export function assertConfigFileFree(core: SimCore, vmid: number): void {
  const busy = configFileBusy(core, vmid);
  if (busy) throw die(busy);
}
