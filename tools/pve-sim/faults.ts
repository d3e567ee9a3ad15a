// Failure injection switches, shared by the programmatic API (PveSim methods) and the HTTP control
// endpoints under /_sim. Each switch is read where the real failure would happen. README.md beside
// this file documents every switch and its control endpoint.

export type UnreachableMode = 'off' | 'reset' | 'hang';

export interface CreateFailure {
  status: number;
  /** `{vmid}` and `{node}` are replaced with the request's values. */
  message: string;
}

/** A synchronous refusal of `DELETE /nodes/{node}/lxc/{vmid}`; same shape as a create failure. */
export type DeleteFailure = CreateFailure;

export interface TaskFailure {
  /** Only tasks of this type (`vzcreate`, `vzstart`, ...); any type when omitted. */
  type?: string;
  message?: string;
}

export interface CallFailure {
  /** `METHOD /path/{template}` as in the schema. */
  route: string;
  status: number;
  message: string;
}

export class Faults {
  /** Consumed one by one by `POST /nodes/{node}/lxc` before it starts a task. */
  readonly createFailures: CreateFailure[] = [];
  /** Consumed one by one by `DELETE /nodes/{node}/lxc/{vmid}` before it starts a task. */
  readonly deleteFailures: DeleteFailure[] = [];
  /** Consumed by the first matching task when it ends; it then fails with the message. */
  readonly taskFailures: TaskFailure[] = [];
  /**
   * Consumed by the next call of a route (`GET /cluster/nextid`, `GET /nodes/{node}/lxc/{vmid}/config`:
   * the schema's path template) once it has passed authentication and permissions: it answers with the
   * status and message instead of running, as a handler's `die` would.
   */
  readonly callFailures: CallFailure[] = [];
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
  /**
   * How long a call proxied to an offline node waits before its 595: pveproxy first tries to
   * connect, and only the connect timeout (or the kernel's "no route") ends the wait.
   */
  offlineDelayMs = 0;
  /** The reason phrase of that 595 (AnyEvent::HTTP passes the socket error text). */
  offlineReason = 'No route to host';
  /** Containers whose DHCP lease never arrives: they run, but `/interfaces` never shows an IPv4. */
  readonly noDhcpVmids = new Set<number>();
  /** While true, no container started from now on gets a DHCP lease. */
  noDhcpAll = false;

  /** Take the failure queued for a task of `type`, if any. */
  takeTaskFailure(type: string): TaskFailure | undefined {
    const i = this.taskFailures.findIndex((f) => !f.type || f.type === type);
    return i >= 0 ? this.taskFailures.splice(i, 1)[0] : undefined;
  }

  /** Take the failure queued for `route` (`METHOD /template`), if any. */
  takeCallFailure(route: string): CallFailure | undefined {
    const i = this.callFailures.findIndex((f) => f.route === route);
    return i >= 0 ? this.callFailures.splice(i, 1)[0] : undefined;
  }

  /** Whether a container's DHCP lease is withheld. */
  dhcpWithheld(vmid: number): boolean {
    return this.noDhcpAll || this.noDhcpVmids.has(vmid);
  }

  /** Switch every failure off (timings are restored by the caller, which knows the start options). */
  clear(): void {
    this.createFailures.length = 0;
    this.deleteFailures.length = 0;
    this.taskFailures.length = 0;
    this.callFailures.length = 0;
    this.hangTasks = false;
    this.holdTaskLogs = false;
    this.unreachable = 'off';
    this.offlineReason = 'No route to host';
    this.noDhcpVmids.clear();
    this.noDhcpAll = false;
  }
}
