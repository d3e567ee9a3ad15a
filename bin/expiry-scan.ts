// Runs the expiry scan by hand, as the daily 'expiry.scan' job does (docs/notifications.md):
//   bin/expiry-scan [--at ISO-TIME] [--dry-run]
// --at scans as if it were that moment (its day in TZ decides every notice: for troubleshooting, the
// demo and tests); --dry-run prints what it would queue and writes nothing. Prints one line per
// reminder queued (owner, items, outbox id) and per expiry action.
//   exit 0: done; 2: bad arguments; 1: the scan failed (nothing half-written: each owner is one transaction).
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config/index.js';
import { Auditor } from '../src/audit/index.js';
import { openDatabase } from '../src/database.js';
import { runExpiryScan } from '../src/expiry/scan.js';
import { createLogger } from '../src/lib/logger.js';

const USAGE = `usage: bin/expiry-scan [--at ISO-TIME] [--dry-run]
  --at ISO-TIME  scan as if it were this moment, e.g. 2027-03-01T08:00:00+05:30 (default: now);
                 the notices depend on its calendar day in TZ
  --dry-run      print what would be queued and done; write nothing`;

// An ISO 8601 moment with a date, a time and a zone (Z or ±HH:MM): a bare date would be read as UTC
// midnight, which is another day in many zones.
const ISO_MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

let values: { at?: string; 'dry-run': boolean; help: boolean };
try {
  ({ values } = parseArgs({
    options: { at: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    allowPositionals: false,
  }));
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const at = values.at === undefined ? new Date() : new Date(values.at);
if (values.at !== undefined && (!ISO_MOMENT.test(values.at) || Number.isNaN(at.getTime()))) {
  console.error(`--at: '${values.at}' is not an ISO moment with a time zone, such as 2027-03-01T08:00:00Z\n${USAGE}`);
  process.exit(2);
}

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL);
const dryRun = values['dry-run'];
const db = await openDatabase(config);
// A dry run writes nothing, so it opens no audit file either.
const auditor = dryRun ? new Auditor(db.models, null) : Auditor.fromConfig(config, db.models, logger, 'audit-cli.log');
try {
  const summary = await runExpiryScan({ models: db.models, sequelize: db.sequelize, config, logger, auditor }, { at, dryRun, print: (line) => console.log(line) });
  const queued = dryRun ? 'would queue' : 'queued';
  console.log(`expiry scan for ${summary.scanDay} (${config.TZ}${dryRun ? ', dry run' : ''}): ${queued} ${summary.reminders.length} reminder(s), ${summary.actions.length} expiry action(s)`);
} catch (err) {
  console.error(`expiry scan failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await auditor.close();
  await db.close();
}
