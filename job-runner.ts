// Berth's job runner daemon: config → database → wait for work. Claiming and running jobs arrive with
// the job-runner issue; for now it connects, reports, and shuts down cleanly on SIGTERM/SIGINT.
import { loadConfigOrExit } from './config/index.js';
import { openDatabase } from './src/lib/db/index.js';
import { createLogger } from './src/lib/logger.js';

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL).child({ component: 'job-runner' });

const db = await openDatabase(config, logger);
logger.info({ database: config.database.dialect, pollMs: config.JOB_RUNNER_POLL_MS }, 'job runner connected; waiting');
const idle = setInterval(() => {}, 60_000);

const stop = async (signal: string) => {
  logger.info({ signal }, 'job runner stopping');
  clearInterval(idle);
  await db.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
