// The admin's expiry action per kind (ExpiryPolicies): read by the scan (which acts on it and says it
// in every reminder) and written by the settings page.
import type { Transaction } from 'sequelize';
import type { ExpiryAction } from '../../models/ExpiryPolicy.js';
import type { Models } from '../../models/index.js';
import type { ExpiryItemType } from '../../models/NotificationLog.js';

export interface ExpiryRule {
  kind: ExpiryItemType;
  action: ExpiryAction;
  /** Days between the stop and the delete (only for `delete`). */
  graceDays: number;
}

export const DEFAULT_GRACE_DAYS = 7;

/** The rule for `kind`; no row means reminders only. */
export async function expiryRule(models: Models, kind: ExpiryItemType, transaction?: Transaction): Promise<ExpiryRule> {
  const row = await models.ExpiryPolicy.findByPk(kind, { transaction });
  return { kind, action: row?.action ?? 'none', graceDays: row?.graceDays ?? DEFAULT_GRACE_DAYS };
}

/** Both kinds' rules. */
export async function expiryRules(models: Models, transaction?: Transaction): Promise<Record<ExpiryItemType, ExpiryRule>> {
  return { container: await expiryRule(models, 'container', transaction), vm: await expiryRule(models, 'vm', transaction) };
}
