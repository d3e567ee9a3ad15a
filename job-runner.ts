// Berth's job runner daemon: config → database → runner → signals. The logic is in src/jobs/
// (docs/jobs.md). SIGTERM/SIGINT stop claiming, cancel the running jobs (process group: SIGTERM, then
// SIGKILL after JOB_CANCEL_GRACE_SECONDS), record them as cancelled and exit, within systemd's
// TimeoutStopSec (45 s in systemd/berth-job-runner.service).
import { loadConfigOrExit } from './config/index.js';
import { openDatabase } from './src/database.js';
import { createLogger } from './src/lib/logger.js';
import { JobRunner, runnerOptionsFromConfig } from './src/jobs/runner.js';
import { SyncScheduler } from './src/jobs/scheduler.js';
import { Auditor } from './src/audit/index.js';
import { EdgeRepublisher } from './src/edge/republish.js';
// Also registers the 'expiry.scan' task (src/expiry/scan-task.ts, through enqueue-scan.ts).
import { ExpiryScheduler } from './src/expiry/scheduler.js';
import { OutboxDeliverer } from './src/notify/deliverer.js';

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL).child({ component: 'job-runner' });

try {
  const db = await openDatabase(config, logger);
  const auditor = Auditor.fromConfig(config, db.models, logger, 'audit-runner.log');
  // A failed job's mail to its requester is queued with the job's final status (src/jobs/failure-mail.ts).
  const runner = new JobRunner(runnerOptionsFromConfig(config, { sequelize: db.sequelize, models: db.models, logger, auditor }));
  await runner.start();
  // Every email Berth queues is delivered from here: leases, retries with backoff (src/notify/deliverer.ts).
  // Without SMTP_HOST, mail waits in the outbox (admins see it at /admin/mail) until it is configured.
  const deliverer = new OutboxDeliverer({ models: db.models, sequelize: db.sequelize, config, logger });
  if (config.SMTP_HOST) deliverer.start();
  else logger.warn('SMTP_HOST is not configured: mail waits in the outbox until it is');
  // The inventory sync schedule (SYNC_INTERVAL_MINUTES, 0 = off): every runner checks, one wins each slot.
  const scheduler = new SyncScheduler({ models: db.models, sequelize: db.sequelize, auditor, logger, intervalMinutes: config.SYNC_INTERVAL_MINUTES });
  scheduler.start();
  // The daily expiry scan at EXPIRY_SCAN_TIME in TZ (off: none): every runner checks, one wins each day.
  const expiryScheduler = new ExpiryScheduler({ models: db.models, sequelize: db.sequelize, auditor, logger, config });
  expiryScheduler.start();
  // The edge config re-rendered every EDGE_PUBLISH_INTERVAL_SECONDS (0 = off): status changes made outside Berth reach the edges.
  const republisher = new EdgeRepublisher({ models: db.models, sequelize: db.sequelize, config, logger, actor: { username: null } }, config.EDGE_PUBLISH_INTERVAL_SECONDS);
  republisher.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'job runner stopping');
    // A hard limit below systemd's stop timeout, in case the database never answers again.
    setTimeout(() => {
      logger.error('job runner did not stop in time; exiting');
      process.exit(1);
    }, 40_000).unref();
    try {
      await scheduler.stop();
      await expiryScheduler.stop();
      await republisher.stop();
      await Promise.all([runner.stop(signal), deliverer.stop()]);
      await auditor.close();
      await db.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'job runner stopped with an error');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
} catch (err) {
  logger.fatal({ err }, 'job runner startup failed');
  process.exit(1);
}
