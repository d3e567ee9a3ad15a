// Hand-written SQL (allow-listed in eslint.config.js): MariaDB's GET_LOCK / RELEASE_LOCK on one
// dedicated connection, which the server frees if this process dies; Sequelize has no form for it.
import lockfile from 'proper-lockfile';
import mysql from 'mysql2/promise';
import type { Config } from '../../../config/index.js';

const LOCK_NAME = 'berth_migrations';
const WAIT_SECONDS = 120;

/**
 * Runs `fn` while holding a lock that other Berth processes starting at the same moment wait for, so
 * only one of them applies the pending migrations (the others then find nothing to do).
 * MariaDB: GET_LOCK on a dedicated connection; the server frees it if this process dies.
 * SQLite: a lock file beside the database, made stale if its holder stops refreshing it.
 */
export async function withMigrationLock<T>(database: Config['database'], fn: () => Promise<T>): Promise<T> {
  if (database.dialect === 'sqlite') {
    if (!database.storage || database.storage === ':memory:') return fn();
    const release = await lockfile.lock(database.storage, {
      realpath: false,
      lockfilePath: `${database.storage}.migrate-lock`,
      stale: 10_000,
      retries: { retries: WAIT_SECONDS * 4, minTimeout: 250, maxTimeout: 250 },
    });
    try {
      return await fn();
    } finally {
      await release();
    }
  }
  const connection = await mysql.createConnection({
    host: database.host,
    port: database.port,
    user: database.username,
    password: database.password,
    database: database.database,
  });
  try {
    const [rows] = await connection.query('SELECT GET_LOCK(?, ?) AS locked', [LOCK_NAME, WAIT_SECONDS]);
    if ((rows as Array<{ locked: number | null }>)[0]?.locked !== 1) {
      throw new Error(`could not take the migration lock within ${WAIT_SECONDS} s: is another instance stuck migrating?`);
    }
    try {
      return await fn();
    } finally {
      await connection.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
    }
  } finally {
    await connection.end();
  }
}
