// The one place that sends HTTP to a Proxmox node. It implements the proxmox-api package's
// `doRequest` hook, so the package's typed path builder (`api.nodes.$(node).lxc.$post()`) runs on
// our transport instead of its ProxmoxEngine. We replace the engine because it retries every
// request once on a network error or timeout (a retried create can make two containers), only
// renews tickets on reason phrases PVE >= 9.1.5 no longer sends, and throws untyped errors.
import type { ApiRequestable } from 'proxmox-api';
import { fetch, type Agent } from 'undici';
import {
  ProxmoxError, ProxmoxTimeoutError, ProxmoxTlsError, ProxmoxUnreachableError, errorFromResponse,
} from './errors.js';
import { CONNECT_TIMEOUT, FINGERPRINT_MISMATCH } from './tls.js';
import type { ProxmoxLogger } from './types.js';

export const API_PREFIX = '/api2/json';

/** The JSON envelope of every Proxmox answer. */
export interface Envelope {
  data: unknown;
  total?: number;
  message?: string;
  errors?: Record<string, string>;
  [k: string]: unknown;
}

/** A raw exchange: status line plus the parsed envelope (absent for empty bodies, e.g. 401). */
export interface RawResponse {
  status: number;
  reason: string;
  body?: Envelope;
}

/** Supplies auth headers; the transport asks it again after a 401. */
export interface AuthProvider {
  /** Headers for one API call; may log in or renew the ticket first. */
  headers(method: string): Promise<Record<string, string>>;
  /** After a 401: get fresh credentials. True when the call may be repeated once. */
  recover(): Promise<boolean>;
}

export type Params = Record<string, unknown>;

export interface TransportOptions {
  baseUrl: string;
  dispatcher: Agent;
  timeoutMs: number;
  /** The dispatcher's connect timeout, named in the error when it expires (default: timeoutMs). */
  connectTimeoutMs?: number;
  logger?: ProxmoxLogger;
}

/** A duration as people read it: `300 ms`, `5 s`, `1.5 s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** Plain words for the socket error codes people meet when a node cannot be reached. */
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens on that port, or a firewall rejects it',
  ECONNRESET: 'connection reset by the other side',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'host name lookup failed for now (DNS)',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'the connection closed before an answer',
};

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', FINGERPRINT_MISMATCH,
]);

/** Encode parameters the way Proxmox expects: booleans as 1/0, arrays as repeated keys. */
export function encodeParams(params: Params | undefined): URLSearchParams {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) {
      sp.append(k, item === true ? '1' : item === false ? '0' : String(item));
    }
  }
  return sp;
}

/** HTTP transport for one node; safe to share between concurrent calls. */
export class Transport implements ApiRequestable {
  readonly origin: string;
  auth?: AuthProvider;
  /**
   * Cancels every call (e.g. a cancelled job's signal): a call in flight is aborted at once and
   * throws the signal's reason, as does any later call.
   */
  signal?: AbortSignal;
  private readonly opts: TransportOptions;

  constructor(opts: TransportOptions) {
    const u = new URL(opts.baseUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`unsupported Proxmox URL ${opts.baseUrl}`);
    this.origin = u.origin;
    this.opts = opts;
  }

  /** proxmox-api hook: `path` already starts with /api2/json. Returns `data`. */
  async doRequest(method: string, path: string, _tpl: string, params?: Params): Promise<any> {
    return (await this.request(method, path, params)).data;
  }

  /**
   * An authenticated API call returning the whole envelope. POST/PUT/DELETE are sent exactly once
   * (a 401 is the only exception: the node refused before running anything). A GET that could
   * not connect is tried once more, since reading twice is harmless.
   */
  async request(method: string, path: string, params?: Params): Promise<Envelope> {
    method = method.toUpperCase();
    let res: RawResponse;
    try {
      res = await this.send(method, path, params, await this.authHeaders(method));
    } catch (e) {
      if (method !== 'GET' || !(e instanceof ProxmoxUnreachableError)) throw e;
      res = await this.send(method, path, params, await this.authHeaders(method));
    }
    if (res.status === 401 && this.auth && (await this.auth.recover())) {
      res = await this.send(method, path, params, await this.authHeaders(method));
    }
    if (res.status !== 200) throw errorFromResponse(res.status, res.reason, res.body, { method, path: relPath(path) });
    if (!res.body) {
      throw new ProxmoxError(`Proxmox sent an empty answer to ${method} ${relPath(path)}`, {
        kind: 'protocol', status: res.status, method, path: relPath(path),
      });
    }
    return res.body;
  }

  /** One HTTP exchange with a hard timeout; never retries. Network failures become typed errors. */
  async send(method: string, path: string, params: Params | undefined, headers: Record<string, string>): Promise<RawResponse> {
    const url = new URL(this.origin + path);
    const encoded = encodeParams(params);
    let body: string | undefined;
    const h: Record<string, string> = { Accept: 'application/json', ...headers };
    if (method === 'POST' || method === 'PUT') {
      if ([...encoded.keys()].length) {
        body = encoded.toString();
        h['Content-Type'] = 'application/x-www-form-urlencoded';
      }
    } else {
      for (const [k, v] of encoded) url.searchParams.append(k, v);
    }
    const cancel = this.signal;
    cancel?.throwIfAborted();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.opts.timeoutMs);
    const started = Date.now();
    const where = { method, path: relPath(path) };
    try {
      const signal = cancel ? AbortSignal.any([controller.signal, cancel]) : controller.signal;
      const res = await fetch(url, { method, headers: h, body, signal, dispatcher: this.opts.dispatcher });
      const text = await res.text();
      this.opts.logger?.debug({ ...where, status: res.status, ms: Date.now() - started }, 'proxmox request');
      return { status: res.status, reason: res.statusText, body: parseEnvelope(text, res.headers.get('content-type'), where, res.status) };
    } catch (e) {
      if (e instanceof ProxmoxError) throw e;
      if (cancel?.aborted) throw cancel.reason;
      throw this.networkError(e, controller.signal.aborted, where);
    } finally {
      clearTimeout(timer);
    }
  }

  private async authHeaders(method: string): Promise<Record<string, string>> {
    return this.auth ? this.auth.headers(method) : {};
  }

  private networkError(e: unknown, timedOut: boolean, where: { method: string; path: string }): ProxmoxError {
    const label = `${where.method} ${this.origin}${API_PREFIX}${where.path}`;
    if (timedOut) {
      return new ProxmoxTimeoutError(`Proxmox at ${this.origin} did not answer within ${formatDuration(this.opts.timeoutMs)} (${label})`, { ...where, cause: e });
    }
    const { codes, detail } = describeCause(e);
    if (codes.some((c) => TLS_CODES.has(c) || c.startsWith('ERR_SSL') || c.startsWith('ERR_TLS'))) {
      return new ProxmoxTlsError(
        `TLS verification of ${this.origin} failed (${detail}); configure the node's CA certificate or its SHA-256 fingerprint`,
        { ...where, cause: e },
      );
    }
    if (codes.includes(CONNECT_TIMEOUT) || codes.includes('UND_ERR_CONNECT_TIMEOUT')) {
      const ms = this.opts.connectTimeoutMs ?? this.opts.timeoutMs;
      return new ProxmoxTimeoutError(`Proxmox at ${this.origin} did not accept a connection within ${formatDuration(ms)} (connect timeout; ${label})`, { ...where, cause: e });
    }
    const words = codes.map((c) => NETWORK_WORDS[c]).find(Boolean);
    return new ProxmoxUnreachableError(`Proxmox at ${this.origin} is unreachable${words ? `: ${words}` : ''} (${detail})`, { ...where, cause: e });
  }
}

function relPath(path: string): string {
  return path.startsWith(API_PREFIX) ? path.slice(API_PREFIX.length) : path;
}

/**
 * The JSON envelope of an answer, or undefined when there is none: 401s and the 595 of a node the
 * cluster cannot reach come with an empty body and no content type, and then the status line is
 * all there is. An error status with a garbled body is still that error (the reason phrase says it).
 */
function parseEnvelope(text: string, contentType: string | null, where: { method: string; path: string }, status: number): Envelope | undefined {
  if (!text) return undefined;
  if (!contentType?.toLowerCase().startsWith('application/json')) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Envelope;
  } catch {
    // fall through to the protocol error
  }
  if (status !== 200) return undefined;
  throw new ProxmoxError(`Proxmox sent malformed JSON to ${where.method} ${where.path}`, { kind: 'protocol', ...where });
}

/** Collect error codes and the most specific message along an error's `cause` chain. */
function describeCause(e: unknown): { codes: string[]; detail: string } {
  const codes: string[] = [];
  let detail = '';
  for (let cur: any = e, depth = 0; cur && depth < 6; cur = cur.cause, depth++) {
    if (typeof cur.code === 'string') codes.push(cur.code);
    if (typeof cur.message === 'string' && cur.message && cur.message !== 'fetch failed') detail = cur.message;
  }
  if (codes.length && !detail.includes(codes[0])) detail = detail ? `${codes[0]}: ${detail}` : codes[0];
  return { codes, detail: detail || String(e) };
}
