// HTTP control endpoints under /_sim (outside /api2, never affected by failure injection) so a
// separate process can drive the simulator: inject failures, move the clock, read what it saw.
// Bodies and answers are plain JSON. Unauthenticated: the simulator is a test tool on 127.0.0.1.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './http.js';
import type { PveSim } from './server.js';

type Body = Record<string, unknown>;
type Route = (sim: PveSim, body: Body) => unknown;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const buf = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(buf.length) });
  res.end(buf);
}

/** The values pve-container's `lock` option allows. */
const LOCKS = ['backup', 'create', 'destroyed', 'disk', 'fstrim', 'migrate', 'mounted', 'rollback', 'snapshot', 'snapshot-delete'];

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const routes: Record<string, Route> = {
  'GET /_sim/state': (sim) => sim.summary(),
  'GET /_sim/requests': (sim) => sim.requests,
  'GET /_sim/logins': (sim) => sim.logins,
  'POST /_sim/fail-next-create': (sim, b) => sim.failNextCreate({ message: text(b.message), status: num(b.status) }),
  'POST /_sim/fail-next-task': (sim, b) => sim.failNextTask({ type: text(b.type), message: text(b.message) }),
  'POST /_sim/fail-next-call': (sim, b) => {
    const route = text(b.route);
    if (!route || !/^(GET|POST|PUT|DELETE) \//.test(route)) throw new Error('route must be METHOD /path/{template}, e.g. GET /cluster/nextid');
    sim.failNextCall(route, { status: num(b.status), message: text(b.message) });
  },
  'POST /_sim/hang-tasks': (sim, b) => sim.hangTasks(b.on !== false),
  'POST /_sim/hold-task-logs': (sim, b) => sim.holdTaskLogs(b.on !== false),
  'POST /_sim/unreachable': (sim, b) => {
    const mode = text(b.mode) ?? 'reset';
    if (mode !== 'off' && mode !== 'reset' && mode !== 'hang') throw new Error(`mode must be off, reset or hang`);
    sim.setUnreachable(mode);
  },
  'POST /_sim/expire-tickets': (sim) => sim.expireTickets(),
  'POST /_sim/clock': (sim, b) => {
    if (num(b.set) !== undefined) sim.clock.set(num(b.set)!);
    if (num(b.advanceMs) !== undefined) sim.clock.advance(num(b.advanceMs)!);
    return { now: sim.clock.now() };
  },
  'POST /_sim/node': (sim, b) => sim.setNodeOnline(String(b.node), b.online !== false, text(b.reason)),
  'POST /_sim/timing': (sim, b) => sim.setTiming({
    taskMs: num(b.taskMs), ipDelayMs: num(b.ipDelayMs), authFailDelayMs: num(b.authFailDelayMs), responseDelayMs: num(b.responseDelayMs),
    offlineDelayMs: num(b.offlineDelayMs),
  }),
  'POST /_sim/fail-next-delete': (sim, b) => sim.failNextDelete({ message: text(b.message), status: num(b.status) }),
  'POST /_sim/no-dhcp': (sim, b) => sim.setNoDhcp(b.on !== false, num(b.vmid)),
  'POST /_sim/lock': (sim, b) => {
    const lock = b.lock === null || b.lock === undefined ? undefined : text(b.lock);
    if (lock !== undefined && !LOCKS.includes(lock)) throw new Error(`lock must be one of ${LOCKS.join(', ')} (or null to unlock)`);
    sim.setLock(Number(b.vmid), lock);
  },
  'POST /_sim/reset': (sim) => sim.reset(),
};

/** Serve a /_sim request. */
export async function handleControl(sim: PveSim, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const route = routes[`${req.method} ${path}`];
  if (!route) return reply(res, 404, { error: `no control endpoint ${req.method} ${path}`, endpoints: Object.keys(routes) });
  try {
    const raw = (await readBody(req)).toString('utf8');
    const body = raw ? (JSON.parse(raw) as Body) : {};
    const result = route(sim, body ?? {});
    reply(res, 200, result === undefined ? { ok: true } : result);
  } catch (e) {
    reply(res, 400, { error: (e as Error).message });
  }
}
