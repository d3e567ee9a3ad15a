import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import dbUrl from './database-url.cjs';
import paths from './paths.cjs';
import { applySecretFiles } from './env-file.js';
import { persistedSecret } from './session-secret.js';

const { resolveDatabaseUrl, sequelizeOptionsFromUrl } = dbUrl;
const { resolveDataDir } = paths;

const bool = (fallback: boolean) =>
  z
    .stringbool({ truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'], case: 'sensitive', error: 'must be true or false' })
    .default(fallback);
const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);
/** True for a time zone name Intl knows (an IANA name such as Asia/Kolkata, or UTC). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * A path on the edge host as Berth writes it into nginx.conf: absolute, letters, digits and . _ / -
 * only, no `..` segment. Shared with the domain form (src/edge/names.ts), so nothing that could carry
 * nginx syntax (quotes, `;`, braces, `$`, spaces) reaches the config from either place.
 */
export const EDGE_PATH = /^(\/[A-Za-z0-9._-]+)+$/;
export const isEdgePath = (v: string): boolean => EDGE_PATH.test(v) && !v.split('/').includes('..') && v.length <= 1024;
/** An edge path, or '' for none. */
const edgePath = z.string().refine((v) => v === '' || isEdgePath(v), 'must be an absolute path of letters, digits and . _ / - (no ..)');
/** `FROM-TO`, both ports. */
const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'must be a port range such as 20000-29999')
  .transform((v) => v.split('-').map(Number) as [number, number])
  // Not below 1024: Berth proves each version with nginx -t, which binds every port and, run as an
  // ordinary user, may not bind those.
  .refine(([from, to]) => from >= 1024 && to <= 65535 && from <= to, 'must be FROM-TO with 1024 <= FROM <= TO <= 65535');
/** Comma-separated ports. */
const portList = z
  .string()
  .regex(/^(\d{1,5}(,\s*\d{1,5})*)?$/, 'must be a comma-separated list of ports')
  .transform((v) => (v ? v.split(',').map((p) => Number(p.trim())) : []))
  .refine((ports) => ports.every((p) => p >= 1 && p <= 65535), 'ports are 1-65535');
/** An IPv4/IPv6 address, or a CIDR with a prefix length its family allows. */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = net.isIP(address);
  if (!family || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}
/** Comma-separated IPv4/IPv6 addresses or CIDRs. */
const addressList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .refine((list) => list.every(isAddressOrCidr), 'must be a comma-separated list of IP addresses or CIDRs (e.g. 10.0.0.5, 192.0.2.0/24)');

/**
 * `trust proxy` as Express understands it: false (default: the client IP is the socket's), a hop count,
 * or a comma-separated list of proxy addresses/subnets. Never plain `true`, which would trust any
 * X-Forwarded-For sent by a client.
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((v, ctx) => {
    if (v === 'false' || v === '0' || v === '') return false as const;
    if (/^\d+$/.test(v)) return Number(v);
    if (v === 'true') {
      ctx.addIssue({ code: 'custom', message: "'true' trusts any client's X-Forwarded-For: give a hop count or proxy addresses" });
      return z.NEVER;
    }
    const list = v.split(',').map((s) => s.trim()).filter(Boolean);
    if (!list.every((s) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$|^(loopback|linklocal|uniquelocal)$/.test(s))) {
      ctx.addIssue({ code: 'custom', message: 'must be false, a hop count, or a comma-separated list of IP addresses/subnets' });
      return z.NEVER;
    }
    return list;
  });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(3000, 0, 65535),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://berth.example.org' }).optional(),
  DATA_DIR: z.string().min(1),
  DATABASE_URL: z.string().min(1),
  DB_POOL_MAX: int(10, 1, 200),
  /** Every MariaDB statement is limited to this (server side), and a connection silent for 5 s longer is dropped; 0 = no limit. */
  DB_QUERY_TIMEOUT_SECONDS: int(30, 0, 24 * 3600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_IDLE_MINUTES: int(60, 1, 7 * 24 * 60),
  SESSION_ABSOLUTE_HOURS: int(12, 1, 24 * 30),
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  TRUST_PROXY: trustProxy,
  BODY_LIMIT_KB: int(100, 1, 10_240),
  RATE_LIMIT_WINDOW_MINUTES: int(15, 1, 24 * 60),
  RATE_LIMIT_MAX: int(100, 1, 1_000_000),
  PROXMOX_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://pve.example.org:8006' }).optional(),
  PROXMOX_TLS_VERIFY: bool(true),
  PROXMOX_CA_FILE: z.string().optional(),
  PROXMOX_FINGERPRINT: z.string().regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 fingerprint AA:BB:…').optional(),
  /** Bounds one Proxmox API call, from sending it to the end of the answer. */
  PROXMOX_TIMEOUT_MS: int(15_000, 100, 600_000),
  /** Bounds opening a connection to a node (TCP and TLS handshake): an unreachable node fails this fast. */
  PROXMOX_CONNECT_TIMEOUT_MS: int(5_000, 100, 120_000),
  /** The whole budget of the node page's "Test connection", which a person waits for. */
  PROXMOX_TEST_TIMEOUT_MS: int(8_000, 500, 120_000),
  PROXMOX_ADMIN_GROUP: z.string().min(1).default('administrators'),
  /** How old a Proxmox user's rights (groups, enabled, existing) may get before the next request re-reads them. */
  PROXMOX_RECHECK_MINUTES: int(15, 1, 24 * 60),
  /** While Proxmox cannot be reached, admin from PROXMOX_ADMIN_GROUP lasts this long past the recheck bound. */
  PROXMOX_ADMIN_GRACE_MINUTES: int(60, 0, 7 * 24 * 60),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: int(587, 1, 65535),
  SMTP_SECURE: z.enum(['none', 'starttls', 'tls'], { error: 'must be none, starttls or tls' }).default('starttls'),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  SMTP_TLS_VERIFY: bool(true),
  SMTP_TIMEOUT_MS: int(10_000, 100, 120_000),
  MAIL_FROM: z.string().min(3).default('Berth <berth@localhost>'),
  ADMIN_EMAILS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.email('must be a comma-separated list of email addresses'))),
  LOGIN_MAX_FAILURES: int(5, 1, 1000),
  LOGIN_MAX_FAILURES_PER_IP: int(50, 1, 100_000),
  LOGIN_LOCKOUT_MINUTES: int(15, 1, 24 * 60),
  API_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  PASSWORD_LINK_HOURS: int(72, 1, 30 * 24),
  // The fallback poll: new jobs wake runners at once (src/jobs/wake.ts); only rows inserted by plain SQL wait for it.
  JOB_RUNNER_POLL_MS: int(3000, 10, 60_000),
  JOB_RUNNER_CWD: z.string().optional(),
  JOB_RUNNER_CONCURRENCY: int(4, 1, 256),
  JOB_TIMEOUT_SECONDS: int(3600, 1, 7 * 24 * 3600),
  JOB_OUTPUT_MAX_BYTES: int(10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  JOB_OUTPUT_FLUSH_MS: int(25, 5, 10_000),
  JOB_OUTPUT_BUFFER_MAX_BYTES: int(16 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
  JOB_HEARTBEAT_SECONDS: int(5, 1, 3600),
  JOB_STALE_SECONDS: int(30, 2, 24 * 3600),
  JOB_CANCEL_GRACE_SECONDS: int(10, 0, 600),
  JOB_STREAM_POLL_MS: int(50, 10, 10_000),
  // The SSE feed polls every JOB_STREAM_POLL_MS while a job prints and backs off to this after 2 s of silence.
  JOB_STREAM_IDLE_POLL_MS: int(1000, 10, 10_000),
  JOB_ENV_PASSTHROUGH: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a comma-separated list of environment variable names'))),
  READY_REQUIRES_RUNNER: bool(false),
  ENCRYPTION_KEY: z.string().optional(),
  ENCRYPTION_OLD_KEYS: z.string().optional(),
  AUDIT_LOG_DIR: z.string().min(1).optional(),
  AUDIT_LOG_FILE: bool(true),
  AUDIT_LOG_MAX_SIZE: z.string().regex(/^\d+[KMG]$/, 'must be a size such as 10M').default('10M'),
  AUDIT_LOG_MAX_FILES: int(30, 1, 10_000),
  SYNC_INTERVAL_MINUTES: int(60, 0, 7 * 24 * 60),
  // Self-service containers (docs/provisioning.md). Quotas are per user; an admin overrides them per user.
  QUOTA_CONTAINERS: int(5, 0, 100_000),
  QUOTA_CORES: int(8, 0, 1_000_000),
  QUOTA_MEMORY_MB: int(8192, 0, 1_000_000_000),
  QUOTA_DISK_GB: int(100, 0, 1_000_000_000),
  /** The largest single container anyone may ask for (a node's capacity is checked when it is created). */
  CONTAINER_MAX_CORES: int(16, 1, 8192),
  CONTAINER_MAX_MEMORY_MB: int(65_536, 16, 16_777_216),
  CONTAINER_MAX_DISK_GB: int(1024, 1, 1_048_576),
  /** Expiry of a new container: ordinary users must give one, at most this many days ahead. */
  CONTAINER_EXPIRY_DEFAULT_DAYS: int(90, 1, 36_500),
  CONTAINER_EXPIRY_MAX_DAYS: int(365, 1, 36_500),
  /** Where new root disks go, and the bridge of net0 when the node has no IP pool. */
  PROVISION_STORAGE: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,99}$/, 'must be a Proxmox storage id such as local-lvm').default('local-lvm'),
  PROVISION_BRIDGE: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,15}$/, 'must be a bridge name such as vmbr0').default('vmbr0'),
  /** How long a new container may take to report its DHCP address before the create fails. */
  PROVISION_IP_WAIT_SECONDS: int(120, 0, 3600),
  /** Bounds every wait for a Proxmox task in a provisioning job. */
  PROVISION_TASK_TIMEOUT_SECONDS: int(900, 1, 24 * 3600),
  /** How often a provisioning job polls a Proxmox task (the GUI's 1 s). */
  PROVISION_POLL_MS: int(1000, 10, 60_000),
  /** DELETE /containers/:id waits this long for its job, then answers 202 with the job. */
  CONTAINER_DELETE_WAIT_SECONDS: int(60, 0, 3600),
  /** The time zone of the expiry scan (08:00 there) and of its days (any IANA name). */
  TZ: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Kolkata or Europe/Berlin').default('Asia/Kolkata'),
  // Email (docs/notifications.md): every mail goes through the outbox, delivered by the job runner.
  /** How often the runner looks for mail to send (new mail in the outbox waits at most this long). */
  OUTBOX_POLL_MS: int(2000, 50, 60_000),
  /** How long a runner may hold a message it is sending before another runner may retry it. */
  OUTBOX_LEASE_SECONDS: int(120, 5, 3600),
  /** A message the SMTP server keeps refusing for a while (4xx, unreachable) is retried for this long, then marked failed. */
  OUTBOX_RETRY_HOURS: int(72, 1, 30 * 24),
  /** The longest wait between two attempts (the wait doubles from 15 s). */
  OUTBOX_MAX_BACKOFF_SECONDS: int(600, 1, 24 * 3600),
  /** Sent messages are deleted after this many days (failed ones stay until an admin acts). */
  OUTBOX_KEEP_DAYS: int(30, 1, 3650),
  /** The daily expiry scan runs at this time in TZ (HH:MM, 24 h); `off`: no scheduled scan (bin/expiry-scan still works). */
  EXPIRY_SCAN_TIME: z.string().regex(/^(off|([01]\d|2[0-3]):[0-5]\d)$/, 'must be a time such as 08:00, or off').default('08:00'),
  /** Send reminders to ADMIN_EMAILS in copy. */
  EXPIRY_CC_ADMINS: bool(false),
  /** How far an "extend" link moves the expiry date (never past CONTAINER_EXPIRY_MAX_DAYS from today). */
  EXPIRY_EXTEND_DAYS: int(30, 1, 3650),
  /** How long an "extend" link in a reminder stays usable. */
  EXPIRY_LINK_DAYS: int(14, 1, 90),
  // The edge: the nginx.conf Berth renders for the reverse-proxy hosts (docs/edge.md). Paths are the
  // edge host's; none of them may hold nginx syntax, so they are checked as plain absolute paths.
  /** `load_module` line for Debian's dynamic stream module; `none` when nginx has it built in. */
  EDGE_LOAD_MODULE: z.string().refine((v) => v === 'none' || isEdgePath(v), 'must be none or an absolute path of letters, digits and . _ / -').default('/usr/lib/nginx/modules/ngx_stream_module.so'),
  EDGE_PID_FILE: edgePath.default('/run/nginx.pid'),
  EDGE_ERROR_LOG: edgePath.default('/var/log/nginx/error.log'),
  EDGE_ACCESS_LOG: edgePath.default('/var/log/nginx/access.log'),
  /** nginx's temporary files (client bodies, proxied responses): a directory the edge's nginx may write. */
  EDGE_TEMP_DIR: edgePath.default('/var/lib/nginx'),
  /** The certificate of domains without their own, of names an admin allowed, and of tcp services with TLS. */
  EDGE_CERTIFICATE: edgePath.default('/etc/ssl/certs/ssl-cert-snakeoil.pem'),
  EDGE_CERTIFICATE_KEY: edgePath.default('/etc/ssl/private/ssl-cert-snakeoil.key'),
  EDGE_HTTP_PORT: int(80, 1, 65535),
  EDGE_HTTPS_PORT: int(443, 1, 65535),
  EDGE_PROXY_CONNECT_TIMEOUT_SECONDS: int(5, 1, 3600),
  EDGE_PROXY_TIMEOUT_SECONDS: int(60, 1, 86_400),
  EDGE_CLIENT_MAX_BODY_SIZE: z.string().regex(/^\d{1,6}[kKmMgG]?$/, 'must be a size such as 10m').default('10m'),
  EDGE_WORKER_CONNECTIONS: int(1024, 16, 1_000_000),
  /** External ports of tcp and udp services are allocated from these ranges (or chosen inside them). */
  EDGE_TCP_PORTS: portRange.prefault('20000-29999'),
  EDGE_UDP_PORTS: portRange.prefault('30000-39999'),
  /** Ports no service may take on the edge (beside EDGE_HTTP_PORT and EDGE_HTTPS_PORT). */
  EDGE_RESERVED_PORTS: portList.prefault('22,25,53,80,443,3306,5432,8006'),
  /** Default services of a new container: its httpPort under the default domain, and ssh on an allocated tcp port. */
  EDGE_DEFAULT_HTTP_SERVICE: bool(true),
  EDGE_DEFAULT_SSH_SERVICE: bool(true),
  EDGE_SSH_INTERNAL_PORT: int(22, 1, 65535),
  /** nginx on the Berth host, to prove each version with `nginx -t`: auto (/usr/sbin/nginx if present), none, or a path. */
  EDGE_NGINX_BINARY: z.string().regex(/^(auto|none|\/[A-Za-z0-9._/-]+)$/, 'must be auto, none or an absolute path').default('auto'),
  /** placeholder: nginx -t runs with a throwaway certificate; as-configured: with the paths above (Berth runs on the edge). */
  EDGE_CHECK_CERTIFICATES: z.enum(['placeholder', 'as-configured']).default('placeholder'),
  /** Addresses allowed to pull /nginx.conf and report without a token (IPs or CIDRs, comma-separated). */
  EDGE_ALLOW_ADDRESSES: addressList.prefault(''),
  /** How many versions are kept (the served and pinned ones always are). */
  EDGE_KEEP_VERSIONS: int(200, 2, 100_000),
  /**
   * How long an instance trusts what it last read to answer a pull: which version is served and that
   * an edge token is valid. Its own publishes, pins and unpins are served at once; another instance's,
   * and a revoked edge token, within this time. 0: read both on every pull.
   */
  EDGE_PULL_CACHE_MS: int(1000, 0, 60_000),
  /** The job runner re-renders this often, so status changes made outside Berth's commands reach the edge (0: never). */
  EDGE_PUBLISH_INTERVAL_SECONDS: int(30, 0, 86_400),
});

/**
 * The variables a job's process inherits from the runner; everything else (the database URL, the
 * session and vault keys, whatever else the runner was started with) stays out. An allow-list, not a
 * deny-list of secret-looking names: a deny-list once missed ENCRYPTION_OLD_KEYS. Operators add
 * names with JOB_ENV_PASSTHROUGH; a task adds its own variables (ExecTask.env).
 */
export const JOB_ENV_NAMES = ['PATH', 'HOME', 'LANG', 'TZ'] as const;

type Parsed = z.infer<typeof schema>;

export type Config = Readonly<
  Omit<Parsed, 'SESSION_SECRET' | 'ENCRYPTION_KEY' | 'AUDIT_LOG_DIR'> & {
    SESSION_SECRET: string;
    /** The vault's current key (generated into DATA_DIR/encryption-key when unset). */
    ENCRYPTION_KEY: string;
    AUDIT_LOG_DIR: string;
    isProduction: boolean;
    /** The whole starting environment of a job's process (see JOB_ENV_NAMES). */
    jobEnv: Readonly<Record<string, string>>;
    publicUrl: string;
    /** queryTimeoutSeconds is DB_QUERY_TIMEOUT_SECONDS (optional for hand-built settings: src/lib/db/connect.ts defaults it). */
    database: ReturnType<typeof sequelizeOptionsFromUrl> & { url: string; queryTimeoutSeconds?: number };
  }
>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** The environment to read; defaults to process.env (plus .env, which never overrides it). */
  env?: Record<string, string | undefined>;
  /** Read `.env` from the working directory (entry points: yes; tests: no). */
  dotenv?: boolean;
}

/**
 * Parses the configuration once. Every problem is collected and thrown together in a ConfigError,
 * so an operator fixes them all in one go. This module is the only reader of process.env.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const base: Record<string, string | undefined> = { ...(options.env ?? process.env) };
  if (options.dotenv ?? !options.env) {
    const parsed = dotenv.config({ processEnv: {}, quiet: true }).parsed ?? {};
    for (const [k, v] of Object.entries(parsed)) if (base[k] === undefined) base[k] = v;
  }
  const problems: string[] = [];
  const env = applySecretFiles(base, problems);
  // Empty strings mean "unset", as in most .env files.
  for (const [k, v] of Object.entries(env)) if (v === '') delete env[k];
  env.DATA_DIR = resolveDataDir(env);
  env.DATABASE_URL = resolveDatabaseUrl(env);

  const result = schema.safeParse(env);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`${issue.path.join('.') || 'config'}: ${issue.message}`);
  }
  let database: Config['database'] | undefined;
  try {
    database = { ...sequelizeOptionsFromUrl(env.DATABASE_URL), url: env.DATABASE_URL };
  } catch (err) {
    problems.push(`DATABASE_URL: ${(err as Error).message}`);
  }
  if (result.success) {
    // Berth's own settings (the database URL, every secret, their *_FILE forms) never reach a job.
    const own = result.data.JOB_ENV_PASSTHROUGH.filter((n) => n.replace(/_FILE$/, '') in schema.shape && !(JOB_ENV_NAMES as readonly string[]).includes(n));
    if (result.data.EDGE_HTTP_PORT === result.data.EDGE_HTTPS_PORT) problems.push('EDGE_HTTPS_PORT: must differ from EDGE_HTTP_PORT (plain HTTP only redirects to it)');
    if (own.length) problems.push(`JOB_ENV_PASSTHROUGH: ${own.join(', ')} ${own.length === 1 ? 'is a Berth setting' : 'are Berth settings'}, never passed to jobs`);
  }
  if (problems.length || !result.success || !database) throw new ConfigError(problems);

  const c = result.data;
  const sessionSecret = c.SESSION_SECRET ?? persistedSecret(c.DATA_DIR, 'session-secret', () => crypto.randomBytes(48).toString('base64url'));
  const encryptionKey = c.ENCRYPTION_KEY ?? persistedSecret(c.DATA_DIR, 'encryption-key', () => crypto.randomBytes(32).toString('base64'));
  return Object.freeze({
    ...c,
    SESSION_SECRET: sessionSecret,
    ENCRYPTION_KEY: encryptionKey,
    AUDIT_LOG_DIR: c.AUDIT_LOG_DIR ?? path.join(c.DATA_DIR, 'logs'),
    isProduction: c.NODE_ENV === 'production',
    jobEnv: Object.freeze(Object.fromEntries([...JOB_ENV_NAMES, ...c.JOB_ENV_PASSTHROUGH].filter((n) => env[n] !== undefined).map((n) => [n, env[n]!]))),
    publicUrl: (c.PUBLIC_URL ?? `http://${c.HOST}:${c.PORT}`).replace(/\/+$/, ''),
    database: Object.freeze({ ...database, queryTimeoutSeconds: c.DB_QUERY_TIMEOUT_SECONDS }),
  });
}

/** For entry points: load the configuration or print every problem and exit 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
