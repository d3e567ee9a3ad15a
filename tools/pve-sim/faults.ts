// Failure injection switches, shared by the programmatic API (PveSim methods) and the HTTP control
// endpoints under /_sim. Each switch is read where the real failure would happen.

export type UnreachableMode = 'off' | 'reset' | 'hang';

export interface CreateFailure {
  status: number;
  /** `{vmid}` and `{node}` are replaced with the request's values. */
  message: string;
}

export interface TaskFailure {
  /** Only tasks of this type (`vzcreate`, `vzstart`, ...); any type when omitted. */
  type?: string;
  message?: string;
}

export class Faults {
  /** Consumed one by one by `POST /nodes/{node}/lxc` before it starts a task. */
  readonly createFailures: CreateFailure[] = [];
  /** Consumed by the first matching task when it ends; it then fails with the message. */
  readonly taskFailures: TaskFailure[] = [];
  /** While true, tasks never finish (they stay `running`) until it is switched off. */
  hangTasks = false;
  /** While true, running tasks write nothing to their log (and do not finish) until it is switched off. */
  holdTaskLogs = false;
  /** `reset` destroys each API connection, `hang` never answers; /_sim keeps working. */
  unreachable: UnreachableMode = 'off';
  /** Delay before answering any 401 (a real node waits 3 s). */
  authFailDelayMs = 0;
  /** Extra delay before every API answer. */
  responseDelayMs = 0;

  /** Take the failure queued for a task of `type`, if any. */
  takeTaskFailure(type: string): TaskFailure | undefined {
    const i = this.taskFailures.findIndex((f) => !f.type || f.type === type);
    return i >= 0 ? this.taskFailures.splice(i, 1)[0] : undefined;
  }

  /** Switch everything off. */
  clear(): void {
    this.createFailures.length = 0;
    this.taskFailures.length = 0;
    this.hangTasks = false;
    this.holdTaskLogs = false;
    this.unreachable = 'off';
    this.responseDelayMs = 0;
  }
}
