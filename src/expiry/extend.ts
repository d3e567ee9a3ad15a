// Extending a container's or VM's expiry: from the one-click link of a reminder, or from the
// Expiries page. Both go through `extendExpiry`, so the rule (how far, never past the admins'
// maximum, audited) is written once.
import type { Transaction } from 'sequelize';
import type { ExtendLink } from '../../models/index.js';
import type { ExpiryItemType } from '../../models/NotificationLog.js';
import { kindByKey, recordName } from '../inventory/kinds.js';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../lib/errors.js';
import { hashExtendToken, tokenKeys } from '../lib/tokens.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { addDays, scanDay } from './clock.js';

/** What an extension did: the item, its old and new last day, and the furthest day allowed. */
export interface Extension {
  itemType: ExpiryItemType;
  itemId: number;
  label: string;
  from: string;
  to: string;
  maximum: string;
}

/** A link that was used, or has run out: 410, the page says so and nothing changes. */
export class LinkGoneError extends AppError {
  override readonly status = 410;
}

/**
 * One message for a forged token, another user's link and a link whose item is gone: the visitor
 * learns nothing about items they may not see.
 */
const invalidLink = () => new NotFoundError('This extend link is not valid. Open the Expiries page to extend your containers and VMs.');

/** The item's expiry is no longer the one the link was sent for: the link is spent, the page still works. */
const changedSinceSent = (label: string, current: string | null) =>
  new ConflictError(`The expiry date of ${label} changed since this link was sent (it is now ${current ?? 'none'}), so the link no longer applies. Open the Expiries page to extend it.`);

/**
 * The furthest an item may be extended to on `today`, and where an extension from `current` lands:
 * EXPIRY_EXTEND_DAYS from the later of its last day and today, capped at today +
 * CONTAINER_EXPIRY_MAX_DAYS (the admins' maximum). Pure, for the page's button labels too.
 */
export function extensionTarget(
  config: { EXPIRY_EXTEND_DAYS: number; CONTAINER_EXPIRY_MAX_DAYS: number },
  current: string,
  today: string,
): { to: string; maximum: string; possible: boolean } {
  const maximum = addDays(today, config.CONTAINER_EXPIRY_MAX_DAYS);
  const base = current > today ? current : today;
  const wanted = addDays(base, config.EXPIRY_EXTEND_DAYS);
  const to = wanted < maximum ? wanted : maximum;
  return { to, maximum, possible: to > current };
}

/**
 * Extends one item inside `transaction`: when `expected` is given (a link), only if the item's
 * expiry still equals it. The update is conditional on the expiry read, so two extensions at once
 * cannot both apply to the same old date. Audited as `<kind>.extend` with the before and after.
 */
async function extendExpiry(
  cmd: CommandContext,
  target: { itemType: ExpiryItemType; itemId: number; expected?: string; mayChange?: (ownerUsername: string | null) => boolean },
  now: Date,
  transaction: Transaction,
): Promise<Extension> {
  const kind = kindByKey(target.itemType)!;
  const model = kind.model(cmd.models);
  const row = await model.findByPk(target.itemId, { transaction, lock: transaction.LOCK.UPDATE });
  if (!row || (target.mayChange && !target.mayChange(row.username))) {
    throw target.expected === undefined ? new NotFoundError(`No such ${kind.label}.`) : invalidLink();
  }
  const label = recordName(kind, row);
  const current = row.expiresAt;
  if (target.expected !== undefined && current !== target.expected) {
    throw changedSinceSent(label, current);
  }
  if (!current) throw new ValidationError(`${label} has no expiry date to extend.`);
  const today = scanDay(now, cmd.config.TZ);
  const { to, maximum, possible } = extensionTarget(cmd.config, current, today);
  if (!possible) {
    throw new ConflictError(`${label} already lasts until ${current}, the furthest allowed (${cmd.config.CONTAINER_EXPIRY_MAX_DAYS} days from today). Nothing was changed.`);
  }
  const [updated] = await model.update({ expiresAt: to }, { where: { id: target.itemId, expiresAt: current }, transaction });
  if (updated !== 1) throw new ConflictError(`The expiry date of ${label} changed meanwhile. Nothing was changed; reload and try again.`);
  await cmd.auditor.record(
    cmd.actor,
    { action: `${kind.key}.extend`, objectType: kind.key, objectId: target.itemId, objectLabel: label, changes: { expiresAt: { before: current, after: to } } },
    transaction,
  );
  return { itemType: target.itemType, itemId: target.itemId, label, from: current, to, maximum };
}

/**
 * Finds the link behind `token` for the signed-in user, or throws what the visitor may be told:
 * 404 for a forged token and for another user's link (the same words), 410 for a used or expired one.
 */
async function linkFor(cmd: CommandContext, token: string, now: Date, transaction?: Transaction): Promise<ExtendLink> {
  const hash = hashExtendToken(tokenKeys(cmd.config), token);
  const link = hash ? await cmd.models.ExtendLink.findOne({ where: { tokenHash: hash }, transaction }) : null;
  if (!link || !cmd.user || link.username !== cmd.user.username) throw invalidLink();
  if (link.usedAt) throw new LinkGoneError(`This extend link was already used (${link.usedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC). Each link works once; the Expiries page shows the current date.`);
  if (link.validUntil.getTime() <= now.getTime()) throw new LinkGoneError('This extend link has expired. Open the Expiries page to extend your containers and VMs.');
  return link;
}

/** What the confirmation page shows before anything changes (GET never extends: mail scanners prefetch links). */
export async function previewExtendLink(
  cmd: CommandContext,
  token: string,
  now: Date,
): Promise<{ itemType: ExpiryItemType; itemId: number; label: string; from: string; to: string; maximum: string; possible: boolean }> {
  const link = await linkFor(cmd, token, now);
  const kind = kindByKey(link.itemType)!;
  const row = await kind.model(cmd.models).findByPk(link.itemId);
  if (!row || row.username !== link.username) throw invalidLink();
  const label = recordName(kind, row);
  const current = row.expiresAt;
  if (current !== link.expiresOn) {
    throw changedSinceSent(label, current);
  }
  return { itemType: link.itemType, itemId: link.itemId, label, from: current, ...extensionTarget(cmd.config, current, scanDay(now, cmd.config.TZ)) };
}

/**
 * Redeems a reminder's extend link for the signed-in user (`cmd.user`): valid only when unused,
 * not past `validUntil`, the item still exists with the expiry the link was sent for and is still
 * theirs, and the user is the one it was sent to. Single use is decided by a conditional UPDATE
 * (`usedAt IS NULL`): of two requests at once, only the one whose update changed the row goes on.
 * A refusal rolls the whole transaction back, so a link refused for a reason that may pass (the
 * maximum) stays usable.
 */
export async function redeemExtendLink(cmd: CommandContext, token: string, now: Date): Promise<Extension> {
  return inTransaction(cmd, async (transaction) => {
    const link = await linkFor(cmd, token, now, transaction);
    const [claimed] = await cmd.models.ExtendLink.update({ usedAt: now }, { where: { id: link.id, usedAt: null }, transaction });
    if (claimed !== 1) throw new LinkGoneError('This extend link was already used. Each link works once; the Expiries page shows the current date.');
    // Sent to the owner of the day: an item handed to someone else since is no longer theirs to extend.
    const stillTheirs = (owner: string | null) => owner === link.username;
    return extendExpiry(cmd, { itemType: link.itemType, itemId: link.itemId, expected: link.expiresOn, mayChange: stillTheirs }, now, transaction);
  });
}

/**
 * The Expiries page's "Extend" button: the same rule as the link. `mayChange` is the route's
 * owner-or-admin answer for the item's owner (anyone else gets the same 404 as for a missing item).
 */
export async function extendFromPage(
  cmd: CommandContext,
  item: { itemType: ExpiryItemType; itemId: number },
  mayChange: (ownerUsername: string | null) => boolean,
  now: Date,
): Promise<Extension> {
  return inTransaction(cmd, (transaction) => extendExpiry(cmd, { ...item, mayChange }, now, transaction));
}
