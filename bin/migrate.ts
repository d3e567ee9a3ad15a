// Applies pending migrations (bin/migrate), or reverts the last one (bin/migrate --down).
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config/index.js';
import { createSequelize } from '../src/lib/db/connect.js';
import { withMigrationLock } from '../src/lib/db/migration-lock.js';
import { createMigrator } from '../src/lib/db/migrator.js';

const { values } = parseArgs({ options: { down: { type: 'boolean', default: false }, status: { type: 'boolean', default: false } } });
const config = loadConfigOrExit();
const sequelize = createSequelize(config.database);
try {
  const migrator = createMigrator(sequelize);
  if (values.status) {
    for (const m of await migrator.executed()) console.log(`up    ${m.name}`);
    for (const m of await migrator.pending()) console.log(`down  ${m.name}`);
  } else {
    const done = await withMigrationLock(config.database, () => (values.down ? migrator.down() : migrator.up()));
    console.log(done.length ? done.map((m) => `${values.down ? 'reverted' : 'applied'} ${m.name}`).join('\n') : 'Nothing to do.');
  }
} finally {
  await sequelize.close();
}
