// Per-node TLS trust. Proxmox nodes usually run self-signed certificates, and the proxmox-api
// package's own advice (NODE_TLS_REJECT_UNAUTHORIZED=0) disables verification for the whole
// process. Instead every client gets its own undici Agent whose connector applies that node's
// policy: the system CAs, a node-specific CA, or a pinned SHA-256 fingerprint.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';

export interface ProxmoxTlsOptions {
  /** Verify the certificate (default true). `false` trusts anything, for this node only. */
  verify?: boolean;
  /** PEM CA certificate(s) to trust for this node instead of the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * SHA-256 fingerprint of the node's certificate, as `pvenode cert info` prints it
   * (`AB:CD:...`, colons and case optional). When set, only a certificate with this fingerprint
   * is accepted, whoever signed it.
   */
  fingerprint?: string;
}

/** Error code put on the socket error when a pinned fingerprint does not match. */
export const FINGERPRINT_MISMATCH = 'PROXMOX_FINGERPRINT_MISMATCH';

/**
 * Normalise a SHA-256 fingerprint to upper-case, colon-separated form; throws on malformed input.
 */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new TypeError('TLS fingerprint must be a SHA-256 fingerprint (64 hex digits, colons optional)');
  }
  return hex.match(/../g)!.join(':');
}

/** Error code of a connection that was not made within the connect timeout (our own timer, below). */
export const CONNECT_TIMEOUT = 'PROXMOX_CONNECT_TIMEOUT';

/**
 * At most this many connections to one node at once; further requests wait for a free one. The
 * caller bounds how many it sends (the sync reads a few machines at a time), so requests do not
 * sit in this queue while their call timer runs.
 */
export const MAX_CONNECTIONS = 8;

/**
 * Enforces the connect timeout (TCP connect plus TLS handshake) with our own timer. undici's own
 * connect timeout runs on its "fast timers", which tick about once a second: a 300 ms timeout
 * fired after about 1 s. At `ms` the socket is destroyed and the connection fails with an error
 * coded CONNECT_TIMEOUT that says how long it waited.
 */
function withConnectTimeout(base: buildConnector.connector, ms: number): buildConnector.connector {
  return (opts, cb) => {
    let settled = false;
    // Set below, once the connector has returned the socket the timer destroys.
    const pending: { timer?: NodeJS.Timeout } = {};
    const started = Date.now();
    // The connector returns the socket it is connecting (its type says void).
    const socket = (base as unknown as (o: buildConnector.Options, c: buildConnector.Callback) => Socket | undefined)(opts, (err, s) => {
      if (settled) {
        s?.destroy();
        return;
      }
      settled = true;
      clearTimeout(pending.timer);
      if (err) cb(err, null);
      else cb(null, s!);
    });
    if (settled) return;
    // setImmediate: a connection that completed in the same turn of the event loop (a busy
    // process) is reported first, as undici does.
    pending.timer = setTimeout(() => setImmediate(() => {
      if (settled) return;
      settled = true;
      const e = new Error(`no connection to ${opts.hostname}:${opts.port || (opts.protocol === 'https:' ? 443 : 80)} within ${ms} ms (waited ${Date.now() - started} ms)`) as Error & { code: string };
      e.code = CONNECT_TIMEOUT;
      socket?.destroy();
      cb(e, null);
    }), ms);
  };
}

/**
 * Build the undici dispatcher that carries one node's TLS policy and connect timeout.
 */
export function createDispatcher(tls: ProxmoxTlsOptions = {}, connectTimeoutMs = 10_000): Agent {
  const verify = tls.verify !== false;
  // timeout 0: undici's own (coarse) connect timer is off; withConnectTimeout keeps time instead.
  if (tls.fingerprint) {
    const expected = normalizeFingerprint(tls.fingerprint);
    // Chain verification is replaced by the pin, so the node may keep its self-signed cert.
    // Session caching is off so every connection presents (and is checked against) the cert.
    const base = buildConnector({ rejectUnauthorized: false, timeout: 0, maxCachedSessions: 0 });
    const pinned = ((opts, cb) => base(opts, (err, socket) => {
      if (err || !socket) return cb(err ?? new Error('no socket'), null);
      const actual = (socket as TLSSocket).getPeerCertificate?.()?.fingerprint256;
      if (!actual || actual.toUpperCase() !== expected) {
        socket.destroy();
        const e = new Error(
          `certificate fingerprint ${actual ?? '(none)'} does not match the pinned ${expected}`,
        ) as Error & { code: string };
        e.code = FINGERPRINT_MISMATCH;
        return cb(e, null);
      }
      cb(null, socket);
    // Returns the socket, as withConnectTimeout expects of a connector.
    })) as buildConnector.connector;
    return new Agent({ connect: withConnectTimeout(pinned, connectTimeoutMs), connections: MAX_CONNECTIONS });
  }
  const base = buildConnector({ rejectUnauthorized: verify, ...(verify && tls.ca ? { ca: tls.ca } : {}), timeout: 0 });
  return new Agent({ connect: withConnectTimeout(base, connectTimeoutMs), connections: MAX_CONNECTIONS });
}
