import { Sequelize, type Options } from 'sequelize';
import type { Config } from '../../../config/index.js';
import paths from '../../../config/paths.cjs';
import type { Logger } from '../logger.js';

type SqliteConnection = { run(sql: string, cb: (err: Error | null) => void): void };

function runPragma(connection: SqliteConnection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => connection.run(sql, (err) => (err ? reject(err) : resolve())));
}

/**
 * Opens the database named by the configuration.
 * SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout, and IMMEDIATE
 * transactions so a transaction that will write takes the write lock up front instead of failing
 * with SQLITE_BUSY halfway. Sequelize opens one SQLite connection per transaction, so the pragmas
 * are set on every connection.
 * MariaDB: mysql2, utf8mb4, UTC.
 */
export function createSequelize(database: Config['database'], options: { poolMax?: number; logger?: Logger } = {}): Sequelize {
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
  return new Sequelize(database.database ?? '', database.username ?? '', database.password ?? '', {
    dialect: 'mysql',
    host: database.host,
    port: database.port,
    logging,
    timezone: '+00:00',
    dialectOptions: { charset: 'utf8mb4', dateStrings: false, connectTimeout: 5000 },
    define: { charset: 'utf8mb4', collate: 'utf8mb4_unicode_ci' },
    pool: { max: options.poolMax ?? 10, min: 0, acquire: 10_000, idle: 10_000 },
  });
}

/** True when `sequelize` talks to SQLite. */
export function isSqlite(sequelize: Sequelize): boolean {
  return sequelize.getDialect() === 'sqlite';
}
