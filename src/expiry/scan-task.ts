// The 'expiry.scan' job task: the daily expiry scan (src/expiry/scan.ts) run by the job runner, so
// it shows in the jobs list with what it queued as its output. Enqueued by the ExpiryScheduler
// (src/expiry/scheduler.ts) through src/expiry/enqueue-scan.ts.
import { z } from 'zod';
import { registerTask } from '../jobs/tasks/registry.js';
import { runExpiryScan } from './scan.js';

export const EXPIRY_SCAN_TASK = 'expiry.scan';

const params = z
  .object({
    /** The scan's moment (its day in TZ decides the notices); default: when the job runs. */
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

registerTask({
  name: EXPIRY_SCAN_TASK,
  kind: 'function',
  // Berth itself runs it; a person only through bin/expiry-scan or an admin page.
  adminOnly: true,
  schema: params,
  describe: (p) => (p.at ? `Expiry scan at ${p.at}` : 'Expiry scan'),
  run: async (p, ctx) => {
    if (!ctx.config) throw new Error('expiry.scan needs the runner configuration (TZ, PUBLIC_URL, the vault key for the outbox)');
    const at = p.at ? new Date(p.at) : new Date();
    const summary = await runExpiryScan(
      { models: ctx.models, sequelize: ctx.sequelize, config: ctx.config, logger: ctx.logger, auditor: ctx.auditor },
      { at, print: (line) => ctx.stdout(`${line}\n`) },
    );
    ctx.stdout(`Expiry scan for ${summary.scanDay} (${ctx.config.TZ}): ${summary.reminders.length} reminder(s) queued, ${summary.actions.length} expiry action(s).\n`);
  },
});
