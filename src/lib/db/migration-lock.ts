// Hand-written SQL (allow-listed in eslint.config.js): MariaDB's GET_LOCK / RELEASE_LOCK on one
// dedicated connection, which the server frees if this process dies; Sequelize has no form for it.
import lockfile from 'proper-lockfile';
import mysql from 'mysql2/promise';
import type { Config } from '../../../config/index.js';

const MIGRATION_LOCK = 'berth_migrations';
const MIGRATION_WAIT_SECONDS = 120;

/** A lock shared by every Berth process on one database. */
export interface NamedLock {
  /** The MariaDB lock name (GET_LOCK's, ≤ 64 characters) and the SQLite lock file's suffix. */
  name: string;
  /** How long to wait for another holder before giving up (an error naming the lock). */
  waitSeconds: number;
  /** SQLite: the lock file is `<database file>.<sqliteSuffix>` (default: the name). */
  sqliteSuffix?: string;
  /** SQLite: how often to look whether the lock file was freed (ms). Short for a lock held briefly. */
  retryMs?: number;
  /** The error when the wait runs out (default: one naming the lock). */
  timeoutMessage?: string;
}

/**
 * Holders inside this process, per lock: they queue here first, so a process never races itself for
 * the file (proper-lockfile refuses a second lock by the same process) and opens one MariaDB
 * connection at a time per lock instead of one per waiter.
 */
const local = new Map<string, Promise<unknown>>();

function inProcess<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = local.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  local.set(key, tail);
  void tail.then(() => {
    if (local.get(key) === tail) local.delete(key);
  });
  return run;
}

/**
 * Runs `fn` while holding `lock` across every Berth process that shares `database`, and across the
 * callers of this process.
 * MariaDB: GET_LOCK on a dedicated connection; the server frees it if this process dies.
 * SQLite: a lock file beside the database (`<file>.<suffix>`), made stale if its holder stops
 * refreshing it; an in-memory database has no other process, so the in-process queue is the lock.
 */
export function withNamedLock<T>(database: Config['database'], lock: NamedLock, fn: () => Promise<T>): Promise<T> {
  const where = database.dialect === 'sqlite' ? `sqlite:${database.storage ?? ''}` : `mysql:${database.host ?? ''}:${database.port ?? ''}/${database.database ?? ''}`;
  return inProcess(`${where}#${lock.name}`, () => acrossProcesses(database, lock, fn));
}

const timeoutMessage = (lock: NamedLock) =>
  lock.timeoutMessage ?? `could not take the lock ${lock.name} within ${lock.waitSeconds} s: is another instance stuck holding it?`;

async function acrossProcesses<T>(database: Config['database'], lock: NamedLock, fn: () => Promise<T>): Promise<T> {
  if (database.dialect === 'sqlite') {
    if (!database.storage || database.storage === ':memory:') return fn();
    const retryMs = lock.retryMs ?? 250;
    const release = await lockfile
      .lock(database.storage, {
        realpath: false,
        lockfilePath: `${database.storage}.${lock.sqliteSuffix ?? lock.name}`,
        stale: 10_000,
        retries: { retries: Math.ceil((lock.waitSeconds * 1000) / retryMs), minTimeout: retryMs, maxTimeout: retryMs },
      })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === 'ELOCKED') throw new Error(timeoutMessage(lock));
        throw err;
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
    const [rows] = await connection.query('SELECT GET_LOCK(?, ?) AS locked', [lock.name, lock.waitSeconds]);
    if ((rows as Array<{ locked: number | null }>)[0]?.locked !== 1) {
      throw new Error(timeoutMessage(lock));
    }
    try {
      return await fn();
    } finally {
      await connection.query('SELECT RELEASE_LOCK(?)', [lock.name]);
    }
  } finally {
    await connection.end();
  }
}

/**
 * Runs `fn` while holding a lock that other Berth processes starting at the same moment wait for, so
 * only one of them applies the pending migrations (the others then find nothing to do).
 */
export function withMigrationLock<T>(database: Config['database'], fn: () => Promise<T>): Promise<T> {
  return withNamedLock(
    database,
    {
      name: MIGRATION_LOCK,
      sqliteSuffix: 'migrate-lock',
      waitSeconds: MIGRATION_WAIT_SECONDS,
      timeoutMessage: `could not take the migration lock within ${MIGRATION_WAIT_SECONDS} s: is another instance stuck migrating?`,
    },
    fn,
  );
}
