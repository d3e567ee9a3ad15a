import type { User } from '../../models/index.js';
import { ForbiddenError, NotFoundError } from '../lib/errors.js';
import type { CurrentUser } from '../presenters/user.js';

/** Whether an account may be used right now: not disabled and not past its end date. */
export function accountUsable(user: Pick<User, 'disabled' | 'expiresAt'>, now = new Date()): boolean {
  return !user.disabled && !(user.expiresAt && user.expiresAt.getTime() <= now.getTime());
}

/**
 * Returns `record` when `user` owns it (its `userId`) or is an admin; otherwise NotFound, so another
 * user's object is indistinguishable from one that does not exist.
 */
export function ownedOrNotFound<T extends { userId: number }>(user: CurrentUser, record: T | null, options: { adminMay?: boolean } = {}): T {
  if (!record) throw new NotFoundError();
  if (record.userId === user.id || (options.adminMay && user.isAdmin)) return record;
  throw new NotFoundError();
}

/** An admin may not disable or demote themselves (the last admin could lock everyone out). */
export function assertNotSelf(actor: CurrentUser, target: User, action: string): void {
  if (actor.id === target.id) throw new ForbiddenError(`You cannot ${action} your own account.`);
}
