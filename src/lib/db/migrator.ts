import { createRequire } from 'node:module';
import path from 'node:path';
import { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { migrationsDir } from '../paths.js';

const requireCjs = createRequire(import.meta.url);

interface MigrationModule {
  up(queryInterface: unknown, sequelize: typeof Sequelize): Promise<void>;
  down(queryInterface: unknown, sequelize: typeof Sequelize): Promise<void>;
}

/**
 * The migrations in migrations/ (sequelize-cli format), applied through umzug with the same
 * `SequelizeMeta` bookkeeping table as `npx sequelize-cli db:migrate`, so either tool can be used.
 */
export function createMigrator(sequelize: Sequelize, options: { log?: (message: string) => void } = {}) {
  return new Umzug({
    migrations: {
      glob: ['*.js', { cwd: migrationsDir, ignore: ['package.json'] }],
      resolve: ({ name, path: file }) => {
        const migration = requireCjs(path.resolve(file ?? name)) as MigrationModule;
        const queryInterface = sequelize.getQueryInterface();
        return {
          name,
          up: () => migration.up(queryInterface, Sequelize),
          down: () => migration.down(queryInterface, Sequelize),
        };
      },
    },
    context: sequelize,
    storage: new SequelizeStorage({ sequelize }),
    logger: options.log
      ? { info: (m) => options.log?.(JSON.stringify(m)), warn: () => {}, error: () => {}, debug: () => {} }
      : undefined,
  });
}
