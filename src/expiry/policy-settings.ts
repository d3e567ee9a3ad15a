// Writing the admin's expiry action per kind (the settings page). Reading it is src/expiry/policy.ts.
import type { ExpiryAction } from '../../models/ExpiryPolicy.js';
import type { ExpiryItemType } from '../../models/NotificationLog.js';
import { ValidationError } from '../lib/errors.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { expiryRule, type ExpiryRule } from './policy.js';

/** The actions each kind offers: Berth has no QEMU delete, so a VM is at most stopped. */
export const ACTIONS_BY_KIND: Record<ExpiryItemType, readonly ExpiryAction[]> = {
  container: ['none', 'stop', 'delete'],
  vm: ['none', 'stop'],
};

/** The grace period's bounds, in days between the stop and the delete. */
export const GRACE_DAYS_MIN = 1;
export const GRACE_DAYS_MAX = 365;

/**
 * Sets `kind`'s expiry action (and grace period, kept for `delete`), audited as
 * `expiry-policy.update` with the before and after. A delete happens only after the grace period
 * and after the owner got the notice that said when (src/expiry/actions.ts).
 */
export async function setExpiryRule(cmd: CommandContext, input: { kind: ExpiryItemType; action: ExpiryAction; graceDays: number }): Promise<ExpiryRule> {
  if (!ACTIONS_BY_KIND[input.kind].includes(input.action)) {
    throw new ValidationError(`A ${input.kind === 'vm' ? 'VM' : 'container'} can only be ${ACTIONS_BY_KIND[input.kind].join(', ')}.`, { action: 'Berth cannot delete VMs: choose none or stop.' });
  }
  return inTransaction(cmd, async (transaction) => {
    const before = await expiryRule(cmd.models, input.kind, transaction);
    await cmd.models.ExpiryPolicy.upsert({ kind: input.kind, action: input.action, graceDays: input.graceDays, updatedBy: cmd.actor.username }, { transaction });
    const after = await expiryRule(cmd.models, input.kind, transaction);
    const changes: Record<string, { before: unknown; after: unknown }> = {};
    if (before.action !== after.action) changes.action = { before: before.action, after: after.action };
    if (before.graceDays !== after.graceDays) changes.graceDays = { before: before.graceDays, after: after.graceDays };
    await cmd.auditor.record(cmd.actor, { action: 'expiry-policy.update', objectType: 'expiry-policy', objectId: input.kind, objectLabel: input.kind, changes }, transaction);
    return after;
  });
}
