// Worker tasks: every create/start/stop/delete returns a UPID and runs on; a failure shows only in
// the task's exit status and last log line. `follow` polls the status like the GUI does and streams
// new log lines (fetched with `start`) to a callback in order, awaiting it so no line is lost;
// `wait` is `follow` that throws when the task failed.
import type { Proxmox } from 'proxmox-api';
import { sleep } from '../retry.js';
import { ProxmoxError, ProxmoxTaskError, ProxmoxTimeoutError } from './errors.js';
import { coerceNumbers, toNumber } from './numbers.js';
import { API_PREFIX, type Transport } from './transport.js';
import type { TaskLogLine, TaskStatus } from './types.js';
import { parseUpid } from './upid.js';

/** Receives one task log line and its 1-based number; awaited before the next line. */
export type TaskLineHandler = (line: string, n: number) => void | Promise<void>;

export interface FollowOptions {
  /** Called for each new log line, in order, as the task writes them. */
  onLine?: TaskLineHandler;
  /** Poll interval (default 1000 ms, as the GUI). */
  pollMs?: number;
  /** Give up after this long (default: never). The task keeps running on the node. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WaitOptions extends FollowOptions {
  /** The same as `onLine` (the name `wait` had first). */
  onLog?: TaskLineHandler;
}

const LOG_PAGE = 500;

/** True for `OK` and `WARNINGS: n`, which Proxmox counts as success. */
export function isTaskSuccess(exitstatus: string | undefined): boolean {
  return exitstatus === 'OK' || (exitstatus ?? '').startsWith('WARNINGS');
}

/**
 * True for the line PVE::Tools::dump_logfile answers in place of a task log with no lines: it is
 * counted (`total: 1`) and numbered 1, though the file is empty (or not there yet).
 */
export function isEmptyLogPlaceholder(total: number, lines: TaskLogLine[]): boolean {
  if (total > 1 || lines.length !== 1 || lines[0].n !== 1) return false;
  const t = lines[0].t;
  return t === 'no content' || t.startsWith('unable to open file - ');
}

function nodeOf(upid: string): string {
  const p = parseUpid(upid);
  if (!p) throw new ProxmoxError(`not a Proxmox task id: ${upid}`, { kind: 'protocol' });
  return p.node;
}

/** Task status, logs and waiting. Reached as `client.tasks`. */
export class TaskApi {
  constructor(private readonly api: Proxmox.Api, private readonly transport: Transport) {}

  /** `GET /nodes/{node}/tasks/{upid}/status` (the node is read from the UPID). */
  async status(upid: string): Promise<TaskStatus> {
    const s = (await this.api.nodes.$(nodeOf(upid)).tasks.$(upid).status.$get()) as Record<string, unknown>;
    return coerceNumbers(s, ['pid', 'pstart', 'starttime']) as TaskStatus;
  }

  /**
   * `GET .../log?start=&limit=`: lines from 0-based offset `start`. `total` is the line count.
   * A log with no lines yet comes back as `total: 1` and line 1 `no content` (or `unable to open
   * file - ...` before the file exists); that placeholder is dropped and reported as `total: 0`,
   * so the real line 1 is read when it is written instead of being skipped as already seen.
   */
  async log(upid: string, start = 0, limit = 50): Promise<{ lines: TaskLogLine[]; total: number }> {
    const path = `${API_PREFIX}/nodes/${encodeURIComponent(nodeOf(upid))}/tasks/${encodeURIComponent(upid)}/log`;
    const env = await this.transport.request('GET', path, { start, limit });
    const total = toNumber(env.total) ?? 0;
    const rows = Array.isArray(env.data) ? (env.data as Record<string, unknown>[]) : [];
    const lines = rows.map((r) => ({ n: toNumber(r.n) ?? 0, t: String(r.t ?? '') }));
    if (total === 0 || isEmptyLogPlaceholder(total, lines)) return { lines: [], total: 0 };
    return { lines, total };
  }

  /** `GET /nodes/{node}/tasks`: finished tasks, newest first (`source: 'all'` adds running ones). */
  async list(node: string, filter: { vmid?: number; typefilter?: string; source?: 'archive' | 'active' | 'all'; limit?: number } = {}): Promise<Record<string, unknown>[]> {
    const rows = (await this.api.nodes.$(node).tasks.$get(filter as any)) as Record<string, unknown>[];
    return rows.map((r) => coerceNumbers(r, ['pid', 'pstart', 'starttime', 'endtime']));
  }

  /**
   * Wait until the task stops, streaming its log. Resolves with the final status when the exit
   * status is OK or WARNINGS; rejects with ProxmoxTaskError otherwise, ProxmoxTimeoutError after
   * `timeoutMs`, or the signal's reason when aborted.
   */
  async wait(upid: string, opts: WaitOptions = {}): Promise<TaskStatus> {
    const st = await this.follow(upid, { ...opts, onLine: opts.onLine ?? opts.onLog });
    if (!isTaskSuccess(st.exitstatus)) throw new ProxmoxTaskError(upid, st.exitstatus ?? 'unknown exit status');
    return st;
  }

  /**
   * Follow a task to its end, handing each log line to `onLine` as soon as a poll sees it, and
   * resolve with the final status whatever the exit status (check it with {@link isTaskSuccess}),
   * so a job can print the whole log before deciding. Rejects with ProxmoxTimeoutError after
   * `timeoutMs`, with the signal's reason when aborted, or with the error of a failed poll.
   * The node may be given as well, as jobs store it beside the UPID; it must be the UPID's node.
   */
  follow(upid: string, opts?: FollowOptions): Promise<TaskStatus>;
  follow(node: string, upid: string, opts?: FollowOptions): Promise<TaskStatus>;
  async follow(a: string, b?: string | FollowOptions, c?: FollowOptions): Promise<TaskStatus> {
    const [upid, opts] = typeof b === 'string' ? [b, c ?? {}] : [a, b ?? {}];
    if (typeof b === 'string' && nodeOf(upid) !== a) {
      throw new TypeError(`task ${upid} runs on node ${nodeOf(upid)}, not ${a}`);
    }
    const pollMs = opts.pollMs ?? 1000;
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    const onLine = opts.onLine;
    let next = 0; // 0-based offset of the next unseen line
    const drain = async (handle: TaskLineHandler) => {
      for (;;) {
        const { lines } = await this.log(upid, next, LOG_PAGE);
        const fresh = lines.filter((l) => l.n > next);
        for (const l of fresh) {
          await handle(l.t, l.n);
          next = l.n;
        }
        if (lines.length < LOG_PAGE) return;
      }
    };
    for (;;) {
      opts.signal?.throwIfAborted();
      // Status before log: once a poll sees `stopped`, the log read after it is complete.
      const st = await this.status(upid);
      if (onLine) await drain(onLine);
      if (st.status === 'stopped') return st;
      if (Date.now() + pollMs > deadline) {
        throw new ProxmoxTimeoutError(`Proxmox task ${upid} did not finish within ${opts.timeoutMs} ms`);
      }
      await sleep(pollMs, opts.signal);
    }
  }
}
