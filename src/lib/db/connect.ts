// Hand-written SQL (allow-listed in eslint.config.js): databaseNow() is the database's clock as an
// expression, the MariaDB per-session query time limit is a SET SESSION, and SQLite's settings are pragmas.
import { Sequelize, type Options, type Utils } from 'sequelize';
import type { Config } from '../../../config/index.js';
import paths from '../../../config/paths.cjs';
import type { Logger } from '../logger.js';

type SqliteConnection = { run(sql: string, cb: (err: Error | null) => void): void };
type MysqlConnection = {
  query(sql: string, cb: (err: (Error & { errno?: number }) | null) => void): void;
  stream: { setTimeout(ms: number, onTimeout: () => void): void; destroy(err?: Error): void };
};

function runPragma(connection: SqliteConnection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => connection.run(sql, (err) => (err ? reject(err) : resolve())));
}

/** DB_QUERY_TIMEOUT_SECONDS when the caller's database settings do not carry one. */
export const DEFAULT_QUERY_TIMEOUT_SECONDS = 30;

/**
 * How much longer than the server's own statement limit the client waits for a silent socket: the
 * server's clean "statement timed out" error should arrive first; the socket timeout is for the
 * case where nothing can arrive (packets dropped, no RST).
 */
const SOCKET_GRACE_SECONDS = 5;

/** MariaDB's ER_UNKNOWN_SYSTEM_VARIABLE: MySQL has no max_statement_time. */
const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;

/**
 * Bounds every query on a MariaDB connection (issue 11, item 4): without it a connection whose
 * packets are silently dropped (no RST) stalls its query, and whatever awaits it, forever.
 * - Server side, `max_statement_time` aborts a statement that runs longer (the connection stays usable).
 * - Client side, a socket silent for the limit plus a grace is destroyed: the query fails with
 *   ETIMEDOUT and the pool discards the connection (Sequelize's validate() sees the fatal error).
 * The limit must stay above the longest legitimate statement (the runner's wake-up wait, a few
 * seconds). A connection that sits idle in the pool for that long is dropped too, harmlessly.
 */
async function limitQueryTime(connection: MysqlConnection, seconds: number): Promise<void> {
  // Hand-written SQL: a session setting Sequelize has no API for (as the pragmas for SQLite).
  await new Promise<void>((resolve, reject) =>
    connection.query(`SET SESSION max_statement_time = ${Number(seconds)}`, (err) =>
      !err || err.errno === ER_UNKNOWN_SYSTEM_VARIABLE ? resolve() : reject(err),
    ),
  );
  const silentMs = (seconds + SOCKET_GRACE_SECONDS) * 1000;
  connection.stream.setTimeout(silentMs, () => {
    const err = Object.assign(new Error(`no reply from the database for ${seconds + SOCKET_GRACE_SECONDS} s (DB_QUERY_TIMEOUT_SECONDS=${seconds}); connection dropped`), {
      code: 'ETIMEDOUT',
      fatal: true,
    });
    connection.stream.destroy(err);
  });
}

export interface CreateSequelizeOptions {
  poolMax?: number;
  logger?: Logger;
  /** Overrides `database.queryTimeoutSeconds` (DB_QUERY_TIMEOUT_SECONDS); 0 means no limit. */
  queryTimeoutSeconds?: number;
}

/**
 * Opens the database named by the configuration.
 * SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout, and IMMEDIATE
 * transactions so a transaction that will write takes the write lock up front instead of failing
 * with SQLITE_BUSY halfway. Sequelize opens one SQLite connection per transaction, so the pragmas
 * are set on every connection. The busy timeout (5 s, then up to 5 retries) is SQLite's query
 * timeout: a local file has no network to stall on, only locks to wait for.
 * MariaDB: mysql2, utf8mb4, UTC, and a limit on every query (`limitQueryTime`).
 */
export function createSequelize(database: Config['database'], options: CreateSequelizeOptions = {}): Sequelize {
  const logging = options.logger ? (sql: string) => options.logger?.trace({ sql }, 'sql') : false;
  if (database.dialect === 'sqlite') {
    if (database.storage) paths.prepareSqliteFile(database.storage);
    const sqliteOptions: Options = {
      dialect: 'sqlite',
      storage: database.storage,
      logging,
      transactionType: 'IMMEDIATE' as Options['transactionType'],
      retry: { max: 5, match: [/SQLITE_BUSY/] },
      hooks: {
        afterConnect: async (connection: unknown) => {
          const conn = connection as SqliteConnection;
          await runPragma(conn, 'PRAGMA journal_mode = WAL');
          await runPragma(conn, 'PRAGMA foreign_keys = ON');
          await runPragma(conn, 'PRAGMA busy_timeout = 5000');
        },
      },
    };
    return new Sequelize(sqliteOptions);
  }
  const queryTimeoutSeconds = options.queryTimeoutSeconds ?? database.queryTimeoutSeconds ?? DEFAULT_QUERY_TIMEOUT_SECONDS;
  return new Sequelize(database.database ?? '', database.username ?? '', database.password ?? '', {
    dialect: 'mysql',
    host: database.host,
    port: database.port,
    logging,
    timezone: '+00:00',
    dialectOptions: { charset: 'utf8mb4', dateStrings: false, connectTimeout: 5000 },
    define: { charset: 'utf8mb4', collate: 'utf8mb4_unicode_ci' },
    pool: { max: options.poolMax ?? 10, min: 0, acquire: 10_000, idle: 10_000 },
    hooks: {
      afterConnect: async (connection: unknown) => {
        if (queryTimeoutSeconds > 0) await limitQueryTime(connection as MysqlConnection, queryTimeoutSeconds);
      },
    },
  });
}

/** True when `sequelize` talks to SQLite. */
export function isSqlite(sequelize: Sequelize): boolean {
  return sequelize.getDialect() === 'sqlite';
}

/**
 * The database server's current time, shifted by `offsetSeconds` (a whole number), as an SQL
 * expression for a value or a where clause. Liveness is judged by one clock, the database's, in the
 * same statement, never by each runner's host clock: a host 40 s ahead once declared a healthy
 * runner dead in 6 s (issue 11, item 5).
 * Hand-written SQL because Sequelize has no portable "now" (`fn('NOW')` does not exist on SQLite).
 * SQLite stores dates as text; the expression yields the very format Sequelize writes
 * ('2026-12-01 21:55:16.123 +00:00'), so values still parse and compare correctly as strings.
 * MariaDB: the session time zone is UTC (timezone above), as for the dates Sequelize writes.
 */
export function databaseNow(sequelize: Sequelize, offsetSeconds = 0): Utils.Literal {
  if (!Number.isInteger(offsetSeconds)) throw new Error(`databaseNow: offset must be whole seconds, got ${offsetSeconds}`);
  const sign = offsetSeconds < 0 ? '-' : '+';
  const magnitude = Math.abs(offsetSeconds);
  if (isSqlite(sequelize)) {
    return sequelize.literal(`(strftime('%Y-%m-%d %H:%M:%f', 'now', '${sign}${magnitude} seconds') || ' +00:00')`);
  }
  return sequelize.literal(`(NOW(3) ${sign} INTERVAL ${magnitude} SECOND)`);
}
