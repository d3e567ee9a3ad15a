// Typed errors for everything that can go wrong talking to Proxmox. Berth's error middleware maps
// any ProxmoxError to 502 Upstream, so `message` must be presentable to a user: it is Proxmox's
// own text (e.g. "CT 101 already exists on node 'pve'") or a plain sentence, never a stack dump
// and never a secret.

export type ProxmoxErrorKind =
  | 'http' // Proxmox answered with a 4xx/5xx (see status, reason)
  | 'auth' // 401: login failed, ticket/token rejected
  | 'permission' // 403: authenticated but not allowed
  | 'tls' // certificate not trusted or fingerprint mismatch
  | 'timeout' // no answer within timeoutMs
  | 'unreachable' // connection refused/reset, DNS failure
  | 'protocol' // the answer was not the JSON envelope we expect
  | 'task' // a worker task ended with an error exit status
  | 'node-offline'; // the node we asked answered 595/596: it cannot reach the node the call is for

/**
 * A coarse reading of Proxmox's message, so callers can branch without matching text.
 * Derived from the messages of pve-container/qemu-server (see docs/proxmox.md).
 */
export type ProxmoxErrorCode =
  | 'already-exists'
  | 'not-found'
  /** The config has a `lock:` key (`CT is locked (snapshot)`): another operation is running on it. */
  | 'locked'
  /** Another call held the guest's config lock for 10 s (`can't lock file '...' - got timeout`): retry later. */
  | 'lock-timeout'
  /** A `digest` no longer matches: someone else changed the config. Read it again and retry. */
  | 'config-changed'
  | 'already-running'
  | 'not-running'
  | 'invalid-parameter'
  | 'node-offline'
  | undefined;

export interface ProxmoxErrorInit {
  kind: ProxmoxErrorKind;
  status?: number;
  reason?: string;
  errors?: Record<string, string>;
  method?: string;
  path?: string;
  cause?: unknown;
  /** Proxmox's own text, already cleaned with {@link cleanProxmoxText}; defaults to the message. */
  proxmoxMessage?: string;
}

/** Base class: carries the HTTP status and reason phrase (when there was an answer). */
export class ProxmoxError extends Error {
  readonly kind: ProxmoxErrorKind;
  /** Proxmox's HTTP status, when it answered. */
  readonly status?: number;
  /** Proxmox's HTTP reason phrase (first line of its message). */
  readonly reason?: string;
  /** Per-parameter messages from a 400 "Parameter verification failed." */
  readonly errors?: Record<string, string>;
  readonly method?: string;
  /** API path below /api2/json, e.g. `/nodes/pve/lxc`. */
  readonly path?: string;
  /**
   * What a job should print: Proxmox's own words when it gave any (trimmed, without Perl's
   * `at /usr/share/perl5/... line n.` tail), otherwise the message.
   */
  readonly proxmoxMessage: string;

  constructor(message: string, init: ProxmoxErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.proxmoxMessage = init.proxmoxMessage || message;
    this.kind = init.kind;
    this.status = init.status;
    this.reason = init.reason;
    this.errors = init.errors;
    this.method = init.method;
    this.path = init.path;
  }

  /** A classification of the message (see {@link ProxmoxErrorCode}). */
  get code(): ProxmoxErrorCode {
    if (this.status === 400 && this.errors) {
      return Object.values(this.errors).some((e) => /already exists/.test(e)) ? 'already-exists' : 'invalid-parameter';
    }
    if (this.kind === 'node-offline') return 'node-offline';
    const m = this.message;
    // Two different locks: `lock-timeout` is the short-lived file lock every config change takes
    // (busy for seconds, worth a retry); `locked` is a `lock:` key in the config (create, backup,
    // snapshot), held until that operation ends.
    if (/can't lock file '[^']*' - got timeout/.test(m)) return 'lock-timeout';
    if (/detected modified configuration/.test(m)) return 'config-changed';
    if (/already exists|snapshot name '[^']*' already used/.test(m)) return 'already-exists';
    if (/does not exist|no such (task|user|storage|vm)/i.test(m)) return 'not-found';
    if (/is locked/.test(m)) return 'locked';
    if (/already running/.test(m)) return 'already-running';
    if (/not running/.test(m)) return 'not-running';
    return undefined;
  }
}

/** 401: bad credentials, or a ticket/token the node no longer accepts. */
export class ProxmoxAuthError extends ProxmoxError {
  constructor(message: string, init: Omit<ProxmoxErrorInit, 'kind'> = {}) {
    super(message, { ...init, kind: 'auth' });
  }
}

/**
 * The password was right but the user has a second factor (TOTP, ...): Proxmox answered a half
 * ticket with `NeedTFA: 1`, which is not a login. Berth does not yet do the second step.
 */
export class ProxmoxTfaRequiredError extends ProxmoxAuthError {
  constructor(message: string, init: Omit<ProxmoxErrorInit, 'kind'> = {}) {
    super(message, init);
  }
}

/** 403: the user or token lacks a privilege; `reason` names the path and privilege. */
export class ProxmoxPermissionError extends ProxmoxError {
  constructor(message: string, init: Omit<ProxmoxErrorInit, 'kind'> = {}) {
    super(message, { ...init, kind: 'permission' });
  }
}

/** The node's certificate was not trusted (unknown CA, wrong host name, pinned fingerprint). */
export class ProxmoxTlsError extends ProxmoxError {
  constructor(message: string, init: Omit<ProxmoxErrorInit, 'kind'> = {}) {
    super(message, { ...init, kind: 'tls' });
  }
}

/** No complete answer within the configured timeout. The request may still have run. */
export class ProxmoxTimeoutError extends ProxmoxError {
  constructor(message: string, init: Omit<ProxmoxErrorInit, 'kind'> = {}) {
    super(message, { ...init, kind: 'timeout' });
  }
}

/** The node could not be reached at all (refused, reset, DNS). */
export class ProxmoxUnreachableError extends ProxmoxError {
  constructor(message: string, init: Omit<ProxmoxErrorInit, 'kind'> = {}) {
    super(message, { ...init, kind: 'unreachable' });
  }
}

/**
 * 595 or 596 from the node Berth talks to: it proxies calls for `/nodes/{node}/...` to that node
 * and could not reach it (the node is down or cut off from the cluster). Nothing ran there.
 * Real nodes send this with an empty body, so the detail is the reason phrase.
 */
export class ProxmoxNodeOfflineError extends ProxmoxError {
  /** The unreachable node, from the request path (absent when the path names none). */
  readonly node?: string;
  constructor(message: string, init: Omit<ProxmoxErrorInit, 'kind'> & { node?: string } = {}) {
    super(message, { ...init, kind: 'node-offline' });
    this.node = init.node;
  }
}

/** A worker task finished with an error; `exitstatus` is Proxmox's text. */
export class ProxmoxTaskError extends ProxmoxError {
  readonly upid: string;
  readonly exitstatus: string;
  constructor(upid: string, exitstatus: string) {
    const text = cleanProxmoxText(exitstatus);
    super(`Proxmox task failed: ${text}`, { kind: 'task', proxmoxMessage: text });
    this.upid = upid;
    this.exitstatus = exitstatus;
  }
}

/** Type guard for ProxmoxError and its subclasses. */
export function isProxmoxError(e: unknown): e is ProxmoxError {
  return e instanceof ProxmoxError;
}

// Perl's `die` without a trailing newline appends where it died: ` at /usr/share/perl5/PVE/API2/LXC.pm line 2080.`,
// sometimes with the input handle (`, <GEN12> line 3.`). Useless to a user, and it changes between releases.
const PERL_TAIL_RE = /\s+at \/\S+ line \d+(?:, <[^>]*> (?:line|chunk) \d+)?\.?[ \t]*$/gm;

/**
 * Proxmox's message as a user should read it: Perl's `at FILE line N.` tail removed from each line,
 * surrounding whitespace (the usual trailing newline) trimmed.
 */
export function cleanProxmoxText(text: string): string {
  return text.replace(PERL_TAIL_RE, '').trim();
}

/** The `{node}` of a `/nodes/{node}/...` path. */
function nodeOfPath(path: string): string | undefined {
  const m = /^\/nodes\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : undefined;
}

/**
 * Build the error for a non-200 answer. `body` is the parsed JSON envelope, if there was one.
 * The message prefers the body's `message` (libpve-http-server-perl >= 5.2.0), then the reason phrase: older
 * servers only send `{"data":null}` plus `errors`.
 */
export function errorFromResponse(
  status: number,
  reason: string,
  body: { message?: unknown; errors?: unknown } | undefined,
  where: { method: string; path: string },
): ProxmoxError {
  const bodyMsg = typeof body?.message === 'string' ? cleanProxmoxText(body.message) : '';
  const errors = isStringMap(body?.errors) ? body.errors : undefined;
  const said = bodyMsg || cleanProxmoxText(reason);
  let message = said || `HTTP ${status}`;
  if (errors) {
    const details = Object.entries(errors).map(([k, v]) => `${k}: ${cleanProxmoxText(v)}`).join('; ');
    message = `${message.replace(/\.$/, '')}: ${details}`;
  }
  const init = { status, reason, errors, method: where.method, path: where.path, proxmoxMessage: errors ? message : said };
  if (status === 401) {
    return new ProxmoxAuthError(bodyMsg || `Proxmox rejected the credentials (${reason || 'authentication failure'})`, init);
  }
  if (status === 403) return new ProxmoxPermissionError(message, init);
  if (status === 595 || status === 596) {
    const node = nodeOfPath(where.path);
    const text = `${node ? `node ${node}` : 'a cluster node'} is unreachable from the cluster${said ? `: ${said}` : ''}`;
    return new ProxmoxNodeOfflineError(text, { ...init, node });
  }
  return new ProxmoxError(message, { ...init, kind: 'http' });
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string');
}
