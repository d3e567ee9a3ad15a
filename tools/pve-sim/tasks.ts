// Worker tasks. A task gets a real-format UPID at once, writes its log lines spread over its
// duration, then, after the whole duration, runs its effect (write the new container's config,
// mark running, remove the guest) and ends with `TASK OK` or `TASK ERROR: <msg>`. Failures and
// hangs come from Faults.
import type { SimClock } from './clock.js';
import type { Faults } from './faults.js';
import type { Principal } from './perms.js';
import { formatUpid, type TaskIdFields } from './upid.js';

/** A task: the parts of its UPID, the UPID itself, and its state and log. */
export interface SimTask extends TaskIdFields {
  upid: string;
  principal: Principal;
  status: 'running' | 'stopped';
  exitstatus?: string;
  endtime?: number;
  log: string[];
}

export interface TaskSpec {
  node: string;
  type: string;
  id: string | number;
  principal: Principal;
  /** Log lines written while the task runs. */
  lines: string[];
  /** The effect, run at the end; throwing makes the task fail with that message. */
  work?: () => void;
  /** Clean-up when the task fails (e.g. remove a half-created container). */
  onError?: () => void;
  /** Run when the task ends, whatever the outcome (e.g. unlock a clone's source). */
  onEnd?: () => void;
}

export class TaskManager {
  readonly tasks = new Map<string, SimTask>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly parked: Array<() => void> = [];
  /** Log writes and ends held back by `holdTaskLogs`, in the order they were due. */
  private readonly held: Array<() => void> = [];
  private pid = 0x2a000 + Math.floor(Math.random() * 0x1000);
  private readonly pstartBase = 0x1b2c3d4;

  constructor(private readonly clock: SimClock, private readonly faults: Faults, private readonly durationMs: () => number) {}

  /** Start a task; returns its UPID. */
  start(spec: TaskSpec): string {
    this.pid++;
    const who = spec.principal;
    const user = who.tokenid ?? who.userid;
    const base = { node: spec.node, pid: this.pid, pstart: this.pstartBase + this.pid, starttime: this.clock.seconds(), type: spec.type, id: String(spec.id), user };
    const task: SimTask = { ...base, upid: formatUpid(base), principal: who, status: 'running', log: [] };
    this.tasks.set(task.upid, task);
    // The log lines are spread over the run and the end comes after the full duration, also for a
    // task that writes no lines (a start): a real vzstart runs for seconds, and the guest's status
    // changes only when the task ends.
    const duration = Math.max(1, this.durationMs());
    const slot = duration / (spec.lines.length + 1);
    spec.lines.forEach((line, i) => this.later(Math.floor(slot * i), () => this.step(() => task.log.push(line))));
    this.later(duration, () => this.step(() => this.finish(task, spec)));
    return task.upid;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Run a log write or a task's end now, or queue it while logs are held (order is kept). */
  private step(fn: () => void): void {
    if (this.faults.holdTaskLogs || this.held.length) this.held.push(fn);
    else fn();
  }

  /** Write the log lines (and ends) held back by `holdTaskLogs`, in order. */
  releaseHeld(): void {
    for (const fn of this.held.splice(0)) fn();
  }

  private finish(task: SimTask, spec: TaskSpec): void {
    if (this.faults.hangTasks) {
      this.parked.push(() => this.finish(task, spec));
      return;
    }
    const injected = this.faults.takeTaskFailure(task.type);
    let error: string | undefined = injected ? (injected.message ?? `${task.type} failed: injected failure`) : undefined;
    if (!error) {
      try {
        spec.work?.();
      } catch (e) {
        error = e instanceof Error ? e.message.trim() : String(e);
      }
    }
    if (error) {
      spec.onError?.();
      const text = error.replace(/\s*\n\s*/g, ' ').trim();
      task.log.push(`TASK ERROR: ${text}`);
      task.exitstatus = text;
    } else {
      task.log.push('TASK OK');
      task.exitstatus = 'OK';
    }
    spec.onEnd?.();
    task.status = 'stopped';
    task.endtime = this.clock.seconds();
  }

  /** Let tasks parked by `hangTasks` finish now. */
  releaseParked(): void {
    for (const resume of this.parked.splice(0)) resume();
  }

  /** Number of tasks still running. */
  running(): number {
    return [...this.tasks.values()].filter((t) => t.status === 'running').length;
  }

  /** Cancel every pending timer (tasks stay as they are). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.parked.length = 0;
    this.held.length = 0;
  }
}
