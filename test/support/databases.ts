import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { Config } from '../../config/index.js';
import { initModels } from '../../models/index.js';
import { openDatabase, type Db } from '../../src/database.js';
import { testConfig, testContext } from './context.js';
import { testDatabaseTarget } from './target.js';

export interface ScratchDatabase {
  /** DATABASE_URL for Berth's config. */
  url: string;
  dialect: 'sqlite' | 'mysql';
  drop(): Promise<void>;
}

/**
 * A new, empty database on the run's target: a temporary SQLite file, or a new MariaDB database
 * named berth_test_<random> on the target server. `drop()` removes it.
 */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const target = testDatabaseTarget();
  const suffix = `${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  if (target === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-'));
    return {
      url: `sqlite:${path.join(dir, 'berth.db')}`,
      dialect: 'sqlite',
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `berth_test_${suffix}`;
  const admin = await mysql.createConnection({ uri: target });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(target);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dialect: 'mysql',
    drop: async () => {
      const conn = await mysql.createConnection({ uri: target });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

/**
 * Runs `use` on a database of its own, new and migrated, for a test about an empty install (no user
 * yet, no node yet) that must not empty the run's shared tables to get one. Sequelize models are
 * global, so they are pointed back at the run's database afterwards.
 */
export async function withFreshDatabase<T>(use: (db: Db, config: Config) => Promise<T>): Promise<T> {
  const scratch = await createScratchDatabase();
  const config = testConfig(scratch.url);
  try {
    const db = await openDatabase(config);
    try {
      return await use(db, config);
    } finally {
      await db.close();
    }
  } finally {
    await scratch.drop();
    initModels(testContext().db.sequelize);
  }
}

/**
 * For a describe() whose tests share a database of their own (new and migrated before them, dropped
 * after them), so that what they show does not depend on what other files left in the run's
 * database. Read `fresh.db` and `fresh.config` inside hooks and tests.
 */
export function useFreshDatabase(): { db: Db; config: Config } {
  const fresh = {} as { db: Db; config: Config };
  let scratch: ScratchDatabase | undefined;
  before(async () => {
    scratch = await createScratchDatabase();
    fresh.config = testConfig(scratch.url);
    fresh.db = await openDatabase(fresh.config);
  });
  after(async () => {
    try {
      await fresh.db?.close();
    } finally {
      await scratch?.drop();
      initModels(testContext().db.sequelize);
    }
  });
  return fresh;
}
