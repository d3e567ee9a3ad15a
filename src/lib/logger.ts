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

/** Creates Berth's JSON-lines logger. Tests pass a destination to capture lines. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'berth' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
