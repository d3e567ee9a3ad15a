import pino, { type DestinationStream, type Logger } from 'pino';

/** Paths pino blanks out wherever they appear, so a secret never reaches a log line. */
export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.passwordHash',
  '*.secret',
  '*.token',
  '*.ticket',
  '*.apiTokenSecret',
  '*.sshKey',
  // The same names at the top level of a logged object (logger.info({ password }) as well as { body: { password } }).
  'password',
  'secret',
  'sshKey',
  'apiTokenSecret',
  '*.SESSION_SECRET',
  '*._csrf',
];

/** What a blanked secret reads as, in log fields and in logged URLs alike. */
export const REDACTED = '[redacted]';

/**
 * Query parameters whose values are secrets: a parameter is blanked when its name, lower-cased with
 * separators removed, contains one of these words (so `token`, `resetToken`, `access_token`,
 * `api-key` and `ticket` all are). Matching parts of names rather than exact names errs on the side
 * of blanking: a set-password link once reached the request log and was replayed from it.
 */
export const SENSITIVE_QUERY_WORDS = ['token', 'passw', 'secret', 'key', 'code', 'state', 'ticket', 'csrf', 'auth', 'session', 'signature', 'sig', 'otp', 'nonce', 'credential'];

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
};

/** True when a query parameter called `name` carries a secret (see SENSITIVE_QUERY_WORDS). */
export function isSensitiveParam(name: string): boolean {
  const flat = decode(name).toLowerCase().replace(/[^a-z0-9]/g, '');
  return SENSITIVE_QUERY_WORDS.some((word) => flat.includes(word));
}

/**
 * A request URL as it may be logged: the value of every sensitive query parameter replaced by
 * REDACTED, also inside a URL carried by another parameter (`/login?next=/set-password?token=…`).
 * The path and the other parameters are kept as sent, so the line still says what was asked.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url.slice(q + 1).split('&').map((part) => {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (isSensitiveParam(name)) return eq < 0 ? part : `${name}=${REDACTED}`;
    if (eq < 0) return part;
    const value = decode(part.slice(eq + 1));
    if (!value.includes('?')) return part;
    const inner = redactUrl(value);
    return inner === value ? part : `${name}=${encodeURIComponent(inner).replace(/%5B/g, '[').replace(/%5D/g, ']')}`;
  });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

/** Creates Berth's JSON-lines logger. Tests pass a destination to capture lines. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'berth' },
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
