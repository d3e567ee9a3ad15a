import { addDays, scanDay } from '../../src/expiry/clock.js';
import { issueExtendLink } from '../../src/expiry/extend-link.js';
import { createContainer } from '../factories/inventory.js';
import type { AuditEntry } from './audit-cases.js';
import { testContext } from './context.js';

/** Audit-coverage entries for src/routes/expiry.ts (see audit-cases.ts). */
export function expiryAuditCases(): Record<string, AuditEntry> {
  /** A container of the admin's expiring in 5 days (room to extend). */
  const expiring = async (username: string) => createContainer({ username, expiresAt: addDays(scanDay(new Date(), testContext().config.TZ), 5) });
  return {
    'POST /expiry/extend': {
      action: 'container.extend',
      async build(admin) {
        const ct = await expiring(admin.username);
        return { path: '/expiry/extend', body: { kind: 'container', id: ct.id } };
      },
    },
    'POST /expiry/link': {
      action: 'container.extend',
      async build(admin) {
        const ct = await expiring(admin.username);
        const { db, config } = testContext();
        const url = await db.sequelize.transaction((t) => issueExtendLink({ models: db.models, config }, { itemType: 'container', itemId: ct.id, username: admin.username, expiresOn: ct.expiresAt! }, new Date(), t));
        const link = new URL(url);
        return { path: link.pathname, body: { token: link.searchParams.get('token') } };
      },
    },
    // Sets the default (reminders only): the policy is global, and a stop left set would act on other files' expired records.
    'POST /admin/expiry': { action: 'expiry-policy.update', build: async () => ({ path: '/admin/expiry', body: { kind: 'container', action: 'none', graceDays: 9 } }) },
    'POST /admin/expiry/scan': {
      exempt: 'its job.enqueue event is tested in test/integration/expiry/pages.test.ts, which cancels the job: a scan at the real date left pending would run in later files\' runners over the shared database',
    },
  };
}
