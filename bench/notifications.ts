// Expiry reminders and the outbox at size: 10,000 containers and 2,000 VMs (bench/seed.ts: expiry
// dates spread over 400 days, 50 owners with email addresses). Prints:
// - one day's scan: a dry run, the real scan (notices, digests and extend links written), and the
//   same day again (everything already sent);
// - 30 consecutive days of scans: per-day p50/p95 and the notices and digests written;
// - the outbox delivering those digests plus 1,000 more messages to a local SMTP server
//   (smtp-server, in this process): messages per second, one message at a time as the runner sends.
// Printed, not asserted.
//   npx tsx bench/notifications.ts   (or with BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/berth_bench)
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../config/index.js';
import { Auditor } from '../src/audit/index.js';
import { addDays } from '../src/expiry/clock.js';
import { runExpiryScan } from '../src/expiry/scan.js';
import { createLogger } from '../src/lib/logger.js';
import { OutboxDeliverer } from '../src/notify/deliverer.js';
import { queueMail } from '../src/notify/outbox.js';
import { benchDb, dialectLabel, exitWhenDone, percentile } from './common.js';
import { inventorySize, seedInventory } from './seed.js';

const DAYS = 30;
const EXTRA_MESSAGES = 1_000;

const { db, config, url, cleanup } = await benchDb({ AUDIT_LOG_FILE: 'false' });
const { models, sequelize } = db;
const logger = createLogger('silent');
const auditor = Auditor.fromConfig(config, models, logger, 'audit-bench.log');
const deps = { models, sequelize, config, logger, auditor };
const size = inventorySize();
const seeded = await seedInventory(models, size);
for (const table of [models.NotificationLog, models.ExtendLink, models.OutboxMessage]) await (table as typeof models.OutboxMessage).destroy({ where: {} });
for (const username of seeded.owners) {
  if (!(await models.User.findOne({ where: { username } }))) await models.User.create({ username, realm: 'local', role: 'user', email: `${username}@example.org`, displayName: null, passwordHash: null, lastLoginAt: null });
}
const label = `${dialectLabel(config)}, ${size.containers} containers + ${size.vms} VMs, ${seeded.owners.length} owners`;
const at = (day: string) => new Date(`${day}T08:00:00+05:30`);
const ms = (t0: number) => Number(process.hrtime.bigint() - BigInt(t0)) / 1e6;
const now = () => Number(process.hrtime.bigint());

// --- one day ---
const first = '2027-02-01';
let t0 = now();
const dry = await runExpiryScan(deps, { at: at(first), dryRun: true });
const dryMs = ms(t0);
t0 = now();
const real = await runExpiryScan(deps, { at: at(first) });
const realMs = ms(t0);
t0 = now();
const again = await runExpiryScan(deps, { at: at(first) });
const againMs = ms(t0);
const items = (s: typeof real) => s.reminders.reduce((n, r) => n + r.items, 0);
console.log(`notifications (${label}):`);
console.log(`  one day's scan: dry run ${dryMs.toFixed(0)} ms (${items(dry)} notices, ${dry.reminders.length} digests); real ${realMs.toFixed(0)} ms (${items(real)} notices, ${real.reminders.length} digests queued); the same day again ${againMs.toFixed(0)} ms (${again.reminders.length} digests)`);

// --- a month ---
const perDay: number[] = [];
let notices = 0;
let digests = 0;
for (let d = 1; d <= DAYS; d++) {
  t0 = now();
  const s = await runExpiryScan(deps, { at: at(addDays(first, d)) });
  perDay.push(ms(t0));
  notices += items(s);
  digests += s.reminders.length;
}
console.log(`  ${DAYS} days of scans: p50 ${percentile(perDay, 50).toFixed(0)} ms, p95 ${percentile(perDay, 95).toFixed(0)} ms per day; ${notices} notices in ${digests} digests`);

// --- delivery ---
let received = 0;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => {
      received++;
      callback();
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
const port = (smtp.server.address() as AddressInfo).port;
const mailConfig = loadConfig({ dotenv: false, env: { ...process.env, DATABASE_URL: url, DATA_DIR: config.DATA_DIR, SESSION_SECRET: config.SESSION_SECRET, ENCRYPTION_KEY: config.ENCRYPTION_KEY, SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_SECURE: 'none', LOG_LEVEL: 'silent' } });
for (let i = 0; i < EXTRA_MESSAGES; i += 100) {
  await sequelize.transaction(async (t) => {
    for (let k = i; k < Math.min(i + 100, EXTRA_MESSAGES); k++) {
      await queueMail({ models, config: mailConfig }, { to: [`user${k % 50}@example.org`], subject: `bench ${k}`, template: 'test-email', data: { sender: 'bench' }, category: 'bench' }, t);
    }
  });
}
const queued = await models.OutboxMessage.count({ where: { status: 'queued' } });
const deliverer = new OutboxDeliverer({ models, sequelize, config: mailConfig, logger });
t0 = now();
const sent = await deliverer.deliverDue();
const sendMs = ms(t0);
console.log(`  outbox: ${sent} of ${queued} queued messages delivered in ${(sendMs / 1000).toFixed(1)} s (${((sent / sendMs) * 1000).toFixed(0)} messages/s, one at a time, a new SMTP connection each); the server received ${received}`);

await new Promise<void>((resolve) => smtp.close(() => resolve()));
await auditor.close();
await cleanup();
exitWhenDone();
