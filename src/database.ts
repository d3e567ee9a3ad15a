// Opening the database is wiring, not infrastructure: it ends by initialising the models, which
// src/lib may not import, so it lives here, beside AppDeps (src/deps.ts), for the entry points.
import type { Sequelize } from 'sequelize';
import type { Config } from '../config/index.js';
import { initModels, type Models } from '../models/index.js';
import type { Logger } from './lib/logger.js';
import { createSequelize } from './lib/db/connect.js';
import { withMigrationLock } from './lib/db/migration-lock.js';
import { createMigrator } from './lib/db/migrator.js';

export interface Db {
  sequelize: Sequelize;
  models: Models;
  close(): Promise<void>;
}

/** Connects, applies pending migrations under the migration lock, and initialises the models. */
export async function openDatabase(config: Pick<Config, 'database' | 'DB_POOL_MAX'>, logger?: Logger): Promise<Db> {
  const sequelize = createSequelize(config.database, { poolMax: config.DB_POOL_MAX, logger });
  await sequelize.authenticate();
  await withMigrationLock(config.database, async () => {
    const applied = await createMigrator(sequelize).up();
    if (applied.length) logger?.info({ migrations: applied.map((m) => m.name) }, 'applied migrations');
  });
  const models = initModels(sequelize);
  return { sequelize, models, close: () => sequelize.close() };
}
