// PveSim: a Proxmox VE API simulator listening on 127.0.0.1 over HTTP or HTTPS. The API lives
// under /api2/json (dispatch.ts), the control endpoints under /_sim (control.ts), and the same
// controls are methods here for tests in the same process.
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SimClock } from './clock.js';
import { handleControl } from './control.js';
import { SimCore, type SimOptions } from './core.js';
import { dispatch } from './dispatch.js';
import type { CreateFailure, TaskFailure, UnreachableMode } from './faults.js';
import { handlers } from './handlers/index.js';
import { readBody, sendError } from './http.js';
import { listOperations } from './schema.js';

export interface PveSimOptions extends SimOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (a free one). */
  port?: number;
  /** PEM key and certificate: serve HTTPS instead of HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export class PveSim {
  readonly core: SimCore;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly opts: PveSimOptions;
  private baseUrl?: string;

  constructor(opts: PveSimOptions) {
    this.opts = opts;
    this.core = new SimCore(opts);
    const missing = listOperations(this.core.schema).filter((op) => !handlers[`${op.method} ${op.path}`]);
    if (missing.length) throw new Error(`simulator lacks handlers for: ${missing.map((m) => `${m.method} ${m.path}`).join(', ')}`);
  }

  /** Base URL without /api2/json, e.g. `https://127.0.0.1:40123`. Set once started. */
  get url(): string {
    if (!this.baseUrl) throw new Error('simulator not started');
    return this.baseUrl;
  }

  get clock(): SimClock { return this.core.clock; }
  get state() { return this.core.state; }
  get requests() { return this.core.requests; }
  get logins() { return this.core.logins; }

  /** Start listening; resolves with the base URL. */
  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const server = this.opts.tls ? createHttps({ key: this.opts.tls.key, cert: this.opts.tls.cert }, handler) : createHttp(handler);
    server.on(this.opts.tls ? 'secureConnection' : 'connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('clientError', (_e, s) => s.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `${this.opts.tls ? 'https' : 'http'}://${this.opts.host ?? '127.0.0.1'}:${port}`;
    return this.baseUrl;
  }

  /** Stop tasks and timers, drop every connection (hung ones too) and stop listening. */
  async close(): Promise<void> {
    this.core.close();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    server.closeAllConnections?.();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    try {
      if (url.pathname.startsWith('/_sim/')) return await handleControl(this, req, res, url.pathname);
      const { unreachable, responseDelayMs } = this.core.faults;
      if (unreachable !== 'off' && url.pathname.startsWith('/api2/')) {
        let path = url.pathname.replace(/^\/api2\/json/, '');
        try { path = decodeURIComponent(path); } catch { /* keep it encoded */ }
        this.core.requests.push({ method: req.method ?? 'GET', path, at: this.core.clock.now() });
        if (unreachable === 'reset') req.socket.destroy();
        return; // 'hang': never answer; close() drops the socket
      }
      // Read the whole request before any delay: a slow node still runs a request whose client gave up.
      const body = await readBody(req);
      if (responseDelayMs > 0) await new Promise((r) => setTimeout(r, responseDelayMs));
      if (url.pathname.startsWith('/api2/json/') || url.pathname === '/api2/json') {
        return await dispatch(this.core, req, res, url.pathname.slice('/api2/json'.length) || '/', url.searchParams, body);
      }
      sendError(res, 501, `Method '${req.method} ${url.pathname}' not implemented\n`);
    } catch (e) {
      if (!res.headersSent) sendError(res, 500, `internal simulator error: ${(e as Error).message}\n`);
    }
  }

  /** Make the next `POST /nodes/{node}/lxc` fail synchronously (default: "CT {vmid} already exists on node '{node}'"). */
  failNextCreate(f: Partial<CreateFailure> = {}): void {
    this.core.faults.createFailures.push({ status: f.status ?? 500, message: f.message ?? "CT {vmid} already exists on node '{node}'" });
  }

  /** Make the next task (of `type`, if given) end with `TASK ERROR: <message>`. */
  failNextTask(f: TaskFailure = {}): void {
    this.core.faults.taskFailures.push({ ...f });
  }

  /** While on, tasks stay `running`; switching off lets them finish. */
  hangTasks(on = true): void {
    this.core.faults.hangTasks = on;
    if (!on) this.core.tasks.releaseParked();
  }

  /**
   * While on, running tasks write no log lines and do not end, so their log stays empty (a real
   * node then answers the `no content` placeholder); switching off writes what was held, in order.
   */
  holdTaskLogs(on = true): void {
    this.core.faults.holdTaskLogs = on;
    if (!on) this.core.tasks.releaseHeld();
  }

  /** `reset`: API connections are destroyed; `hang`: API requests never get an answer; `off`: normal. */
  setUnreachable(mode: UnreachableMode): void {
    this.core.faults.unreachable = mode;
  }

  /** Invalidate every ticket issued so far (as if the node's auth key rotated). */
  expireTickets(): void {
    this.core.auth.expireAll();
  }

  /**
   * Mark a cluster node offline (or back online). Its rows say so, and calls proxied to it wait
   * `offlineDelayMs`, then get a bare 595 with `reason` (default "No route to host"; "Connection
   * timed out" is the other usual one). Its running tasks go on and finish meanwhile.
   */
  setNodeOnline(node: string, online: boolean, reason?: string): void {
    this.core.state.node(node).online = online;
    if (reason !== undefined) this.core.faults.offlineReason = reason;
  }

  /** Change task duration, DHCP delay, 401 delay, a per-request delay and the offline-node delay at run time. */
  setTiming(t: { taskMs?: number; ipDelayMs?: number; authFailDelayMs?: number; responseDelayMs?: number; offlineDelayMs?: number }): void {
    if (t.taskMs !== undefined) this.core.taskMs = t.taskMs;
    if (t.ipDelayMs !== undefined) this.core.ipDelayMs = t.ipDelayMs;
    if (t.authFailDelayMs !== undefined) this.core.faults.authFailDelayMs = t.authFailDelayMs;
    if (t.responseDelayMs !== undefined) this.core.faults.responseDelayMs = t.responseDelayMs;
    if (t.offlineDelayMs !== undefined) this.core.faults.offlineDelayMs = t.offlineDelayMs;
  }

  /** Make the next `DELETE /nodes/{node}/lxc/{vmid}` fail synchronously (default 500 "can't remove CT {vmid} - protection mode enabled"). */
  /**
   * Make the next call of `route` (`METHOD /template`, e.g. `GET /cluster/nextid`) fail with `status`
   * (default 500) and `message`, after authentication and parameter checks, as a handler's die would.
   */
  failNextCall(route: string, f: { status?: number; message?: string } = {}): void {
    this.core.faults.callFailures.push({ route, status: f.status ?? 500, message: f.message ?? 'injected failure' });
  }

  failNextDelete(f: Partial<CreateFailure> = {}): void {
    this.core.faults.deleteFailures.push({ status: f.status ?? 500, message: f.message ?? "can't remove CT {vmid} - protection mode enabled" });
  }

  /**
   * Withhold DHCP: with a vmid, that container never shows an IPv4 (also when it is already
   * running); without, no container started while it is on gets one. `on: false` undoes it, and a
   * running container then gets its lease after the usual DHCP delay.
   */
  setNoDhcp(on: boolean, vmid?: number): void {
    const { faults, state, clock } = this.core;
    if (vmid === undefined) faults.noDhcpAll = on;
    else if (on) faults.noDhcpVmids.add(vmid);
    else faults.noDhcpVmids.delete(vmid);
    for (const g of state.guests.values()) {
      if (g.status !== 'running' || (vmid !== undefined && g.vmid !== vmid)) continue;
      if (on && vmid !== undefined) g.ipReadyAt = Infinity;
      if (!on && g.ipReadyAt === Infinity && !faults.dhcpWithheld(g.vmid)) g.ipReadyAt = clock.now() + this.core.ipDelayMs;
    }
  }

  /**
   * Set a container's or VM's `lock` (e.g. `backup`, as a running vzdump would), so operations fail
   * with "CT is locked (backup)"; undefined removes it.
   */
  setLock(vmid: number, lock: string | undefined): void {
    const g = this.core.state.guests.get(vmid);
    if (!g) throw new Error(`no guest ${vmid}`);
    if (lock === undefined) delete g.config.lock;
    else g.config.lock = lock;
  }

  /** Back to the seed state (tickets, tasks, logs and faults cleared). */
  reset(): void {
    this.core.reset();
  }

  /** Requests seen for a method and path (`/nodes/pve1/lxc`, or a RegExp). */
  count(method: string, path: string | RegExp): number {
    return this.core.count(method, path);
  }

  /** A compact view of the state for /_sim/state and debugging. */
  summary(): Record<string, unknown> {
    const { state, tasks, faults } = this.core;
    return {
      guests: [...state.guests.values()].map((g) => ({ vmid: g.vmid, node: g.node, type: g.type, status: g.status, lock: g.config.lock ?? null })),
      nodes: [...state.nodes.values()].map((n) => ({ node: n.name, online: n.online })),
      tasks: { total: tasks.tasks.size, running: tasks.running() },
      faults: { ...faults, noDhcpVmids: [...faults.noDhcpVmids] },
      now: this.core.clock.now(),
    };
  }
}

/** Create and start a simulator. */
export async function startPveSim(opts: PveSimOptions): Promise<PveSim> {
  const sim = new PveSim(opts);
  await sim.start();
  return sim;
}
