// The simulator without HTTP: state, auth, permissions, tasks, faults, clock and the request log,
// plus the types handlers are written against. server.ts puts HTTP around it.
import { SimAuth } from './auth.js';
import { SimClock } from './clock.js';
import { Faults } from './faults.js';
import { Perms, type Principal } from './perms.js';
import { compileRoutes, loadSchema, type Route, type SchemaFile } from './schema.js';
import { parseSeed, type Seed, type SeedInput } from './seed.js';
import { SimState } from './state.js';
import { TaskManager } from './tasks.js';
import type { ParamValue } from './validator.js';

export interface SimOptions {
  /** Parsed seed or raw seed object (validated here). */
  seed: Seed | SeedInput;
  /** How long each worker task runs (default 1000 ms). */
  taskMs?: number;
  /** How long after start a DHCP container shows its IPv4 (default 1500 ms). */
  ipDelayMs?: number;
  /** Delay before answering 401s (default 0; a real node waits 3000 ms). */
  authFailDelayMs?: number;
  /** How long a call to an offline node waits before its 595 (default 300 ms; a real connect timeout is seconds). */
  offlineDelayMs?: number;
  /** Schema file to validate against (default: the copy beside this module). */
  schemaFile?: string;
  clock?: SimClock;
}

/** One API request as the simulator saw it, for assertions ("exactly one create"). */
export interface RequestRecord {
  method: string;
  /** Path below /api2/json, URI-decoded segments joined with `/`. */
  path: string;
  at: number;
  /** `user@realm` or `user@realm!token` once authenticated. */
  user?: string;
  status?: number;
}

/** A login attempt at POST /access/ticket. */
export interface LoginRecord {
  username: string;
  ok: boolean;
  /** True when the password was a ticket (renewal). */
  renewal: boolean;
  /** `challenge`: a right password answered with a half ticket; `response`: a second-factor step. */
  tfa?: 'challenge' | 'response';
}

/** What a handler sees. `who` is undefined only for endpoints open to the world. */
export interface Ctx {
  core: SimCore;
  who?: Principal;
  params: Record<string, ParamValue>;
}

/** A handler result with a `total` beside `data` (task lists and logs). */
export class Counted {
  constructor(readonly data: unknown[], readonly total: number) {}
}

export type Handler = (ctx: Ctx) => unknown;

export class SimCore {
  readonly clock: SimClock;
  readonly faults = new Faults();
  readonly schema: SchemaFile;
  readonly routes: Route[];
  readonly requests: RequestRecord[] = [];
  readonly logins: LoginRecord[] = [];
  readonly seed: Seed;
  taskMs!: number;
  ipDelayMs!: number;
  state!: SimState;
  auth!: SimAuth;
  perms!: Perms;
  tasks!: TaskManager;

  constructor(private readonly opts: SimOptions) {
    this.clock = opts.clock ?? new SimClock();
    this.seed = parseSeed(opts.seed);
    this.schema = loadSchema(opts.schemaFile);
    this.routes = compileRoutes(this.schema);
    this.reset();
  }

  /** Back to the seed: fresh state, no tasks, new ticket key, empty logs, faults off, start-up timings. */
  reset(): void {
    this.tasks?.close();
    this.taskMs = this.opts.taskMs ?? 1000;
    this.ipDelayMs = this.opts.ipDelayMs ?? 1500;
    this.faults.authFailDelayMs = this.opts.authFailDelayMs ?? 0;
    this.faults.responseDelayMs = 0;
    this.faults.offlineDelayMs = this.opts.offlineDelayMs ?? 300;
    this.state = new SimState(this.seed, this.clock);
    this.auth = new SimAuth(this.state, this.clock);
    this.perms = new Perms(this.state);
    this.tasks = new TaskManager(this.clock, this.faults, () => this.taskMs);
    this.faults.clear();
    this.requests.length = 0;
    this.logins.length = 0;
  }

  /** How many recorded requests match a method and path (string: exact; RegExp: test). */
  count(method: string, path: string | RegExp): number {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path))).length;
  }

  close(): void {
    this.tasks.close();
  }
}

/** Read a parameter as text (after validation, so its type is known to be right). */
export function str(ctx: Ctx, key: string): string | undefined {
  const v = ctx.params[key];
  if (v === undefined || v === null || Array.isArray(v)) return undefined;
  return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
}

/** Read an integer parameter. */
export function int(ctx: Ctx, key: string): number | undefined {
  const v = str(ctx, key);
  return v === undefined ? undefined : Number(v);
}

/** Read a boolean parameter (`1`/`0` or JSON true/false). */
export function flag(ctx: Ctx, key: string): boolean | undefined {
  const v = str(ctx, key);
  return v === undefined ? undefined : v === '1';
}

/** The authenticated principal; handlers behind auth can rely on it. */
export function who(ctx: Ctx): Principal {
  if (!ctx.who) throw new Error('handler needs an authenticated request');
  return ctx.who;
}
