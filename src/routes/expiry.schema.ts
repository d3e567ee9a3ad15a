import { z } from 'zod';
import { EXPIRY_ACTIONS } from '../../models/ExpiryPolicy.js';
import { DEFAULT_GRACE_DAYS } from '../expiry/policy.js';
import { GRACE_DAYS_MAX, GRACE_DAYS_MIN } from '../expiry/policy-settings.js';
import { optional, username } from '../lib/validators.js';

const itemType = z.enum(['container', 'vm'], { error: 'Choose container or vm.' });
const id = z.coerce.number({ error: 'Give the id of a container or VM.' }).int('Give the id of a container or VM.').min(1, 'Give the id of a container or VM.').max(Number.MAX_SAFE_INTEGER);

/** POST /expiry/extend: the item to extend from the Expiries page. */
export const extendItemSchema = z.object({ kind: itemType, id }).transform((v) => ({ itemType: v.kind, itemId: v.id }));

/**
 * GET/POST /expiry/link: the link's token. Any string up to 100 characters (a repeated parameter
 * keeps its first value); whether it is a link is for the redeem function to say, so a malformed
 * token gets the same page as a forged one.
 */
export const extendTokenSchema = z.object({
  token: z.preprocess((x) => (Array.isArray(x) ? x[0] : x), z.string({ error: 'This extend link is not valid.' }).max(100, 'This extend link is not valid.')),
});

/** POST /admin/expiry: one kind's expiry action; the grace period only matters for `delete`. */
export const expiryPolicySchema = z.object({
  kind: itemType,
  action: z.enum(EXPIRY_ACTIONS, { error: 'Choose none, stop or delete.' }),
  graceDays: optional(
    z.coerce
      .number({ error: `Give a whole number of days (${GRACE_DAYS_MIN} to ${GRACE_DAYS_MAX}).` })
      .int(`Give a whole number of days (${GRACE_DAYS_MIN} to ${GRACE_DAYS_MAX}).`)
      .min(GRACE_DAYS_MIN, `At least ${GRACE_DAYS_MIN} day.`)
      .max(GRACE_DAYS_MAX, `At most ${GRACE_DAYS_MAX} days.`),
  ).transform((v) => v ?? DEFAULT_GRACE_DAYS),
});

/** GET /admin/notifications: filters by owner and by item, a page at a time. */
export const notificationListSchema = z.object({
  user: optional(username),
  itemType: optional(itemType),
  itemId: optional(id),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
});
