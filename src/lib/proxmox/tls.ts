// Per-node TLS trust. Proxmox nodes usually run self-signed certificates, and the proxmox-api
// package's own advice (NODE_TLS_REJECT_UNAUTHORIZED=0) disables verification for the whole
// process. Instead every client gets its own undici Agent whose connector applies that node's
// policy: the system CAs, a node-specific CA, or a pinned SHA-256 fingerprint.
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

/**
 * Build the undici dispatcher that carries one node's TLS policy and connect timeout.
 */
export function createDispatcher(tls: ProxmoxTlsOptions = {}, connectTimeoutMs = 10_000): Agent {
  const verify = tls.verify !== false;
  if (tls.fingerprint) {
    const expected = normalizeFingerprint(tls.fingerprint);
    // Chain verification is replaced by the pin, so the node may keep its self-signed cert.
    // Session caching is off so every connection presents (and is checked against) the cert.
    const base = buildConnector({ rejectUnauthorized: false, timeout: connectTimeoutMs, maxCachedSessions: 0 });
    const connect: buildConnector.connector = (opts, cb) => {
      base(opts, (err, socket) => {
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
      });
    };
    return new Agent({ connect });
  }
  return new Agent({
    connect: {
      rejectUnauthorized: verify,
      ...(verify && tls.ca ? { ca: tls.ca } : {}),
      timeout: connectTimeoutMs,
    },
  });
}
