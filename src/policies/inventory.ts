import type { Models } from '../../models/index.js';
import type { InventoryKind, InventoryRecord } from '../inventory/kinds.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import type { CurrentUser } from '../presenters/user.js';
import { accountUsable } from './users.js';

/** Who is asking, as the record rules need it (a signed-in user, or a CSV importer). */
export type Viewer = Pick<CurrentUser, 'username' | 'isAdmin'>;

/**
 * Who may see and change a container or VM record: its owner (`username`) or an admin. Everyone else
 * gets 404, so another user's record cannot be told apart from one that does not exist. A record
 * with no owner is visible to admins only. Messages follow the same rule: a clash on a unique value
 * names the other record only for a viewer who may see it.
 */
export function canViewRecord(user: Viewer | undefined, record: Pick<InventoryRecord, 'username'>): boolean {
  if (!user) return false;
  if (user.isAdmin) return true;
  return record.username !== null && record.username === user.username;
}

/** Editing, deleting and transferring follow the viewing rule (an owner manages their own records). */
export const canEditRecord = canViewRecord;

/** Only admins choose a record's owner on create and edit; an owner hands a record over with a transfer. */
export function canSetOwner(user: CurrentUser): boolean {
  return user.isAdmin;
}

/** `record` when `user` may see it; NotFound for a missing record and for another user's alike. */
export function visibleRecordOrNotFound<T extends InventoryRecord>(user: CurrentUser | undefined, kind: InventoryKind, record: T | null): T {
  if (!record || !canViewRecord(user, record)) throw new NotFoundError(`No such ${kind.label}.`);
  return record;
}

/**
 * Who a record may be transferred to. An admin may name any valid username (Proxmox users may not
 * have logged in to Berth yet); an owner only an existing, usable Berth account, so a typo cannot
 * hand their record to nobody (they would lose it: 404 from then on).
 */
export async function assertTransferTarget(models: Models, user: CurrentUser, username: string): Promise<void> {
  if (user.isAdmin) return;
  const target = await models.User.findOne({ where: { username } });
  if (!target || !accountUsable(target)) {
    throw new ValidationError('Please correct the highlighted fields.', { username: `No Berth user ${username} can receive it (the account must exist and be enabled).` });
  }
}
