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
  | 'task'; // a worker task ended with an error exit status

/**
 * A coarse reading of Proxmox's message, so callers can branch without matching text.
 * Derived from the messages of pve-container/qemu-server (see docs/proxmox.md).
 */
export type ProxmoxErrorCode =
  | 'already-exists'
  | 'not-found'
  | 'locked'
  | 'already-running'
  | 'not-running'
  | 'invalid-parameter'
  | undefined;

export interface ProxmoxErrorInit {
  kind: ProxmoxErrorKind;
  status?: number;
  reason?: string;
  errors?: Record<string, string>;
  method?: string;
  path?: string;
  cause?: unknown;
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

  constructor(message: string, init: ProxmoxErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
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
    const m = this.message;
    if (/already exists/.test(m)) return 'already-exists';
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

/** A worker task finished with an error; `exitstatus` is Proxmox's text. */
export class ProxmoxTaskError extends ProxmoxError {
  readonly upid: string;
  readonly exitstatus: string;
  constructor(upid: string, exitstatus: string) {
    super(`Proxmox task failed: ${exitstatus}`, { kind: 'task' });
    this.upid = upid;
    this.exitstatus = exitstatus;
  }
}

/** Type guard for ProxmoxError and its subclasses. */
export function isProxmoxError(e: unknown): e is ProxmoxError {
  return e instanceof ProxmoxError;
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
  const bodyMsg = typeof body?.message === 'string' ? body.message.trim() : '';
  const errors = isStringMap(body?.errors) ? body.errors : undefined;
  let message = bodyMsg || reason.trim() || `HTTP ${status}`;
  if (errors) {
    const details = Object.entries(errors).map(([k, v]) => `${k}: ${v.trim()}`).join('; ');
    message = `${message.replace(/\.$/, '')}: ${details}`;
  }
  const init = { status, reason, errors, method: where.method, path: where.path };
  if (status === 401) {
    return new ProxmoxAuthError(bodyMsg || `Proxmox rejected the credentials (${reason || 'authentication failure'})`, init);
  }
  if (status === 403) return new ProxmoxPermissionError(message, init);
  return new ProxmoxError(message, { ...init, kind: 'http' });
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string');
}
