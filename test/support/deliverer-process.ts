// The outbox deliverer alone in a process of its own, as the job runner runs it: for tests that
// SIGKILL it with a message in flight. Settings come from the environment like Berth's; two test-only
// variables: OUTBOX_TEST_SINCE (handle only ids above it: the run's database is shared) and
// OUTBOX_TEST_CLOCK_OFFSET_MS (a clock that far ahead, so a restarted deliverer sees the dead one's
// lease as expired without the test waiting it out). Logs JSON lines; 'deliverer started' once up.
import { Op } from 'sequelize';
import { loadConfig } from '../../config/index.js';
import { openDatabase } from '../../src/database.js';
import { createLogger } from '../../src/lib/logger.js';
import { OutboxDeliverer } from '../../src/notify/deliverer.js';

const config = loadConfig({ dotenv: false });
const logger = createLogger(config.LOG_LEVEL);
const db = await openDatabase(config, logger);
const offset = Number(process.env.OUTBOX_TEST_CLOCK_OFFSET_MS ?? 0);
const deliverer = new OutboxDeliverer({
  models: db.models,
  sequelize: db.sequelize,
  config,
  logger,
  clock: () => Date.now() + offset,
  scope: { id: { [Op.gt]: Number(process.env.OUTBOX_TEST_SINCE ?? 0) } },
});
deliverer.start();
logger.info({ deliverer: deliverer.id }, 'deliverer started');
process.on('SIGTERM', () => {
  void deliverer.stop().then(() => db.sequelize.close()).then(() => process.exit(0));
});
