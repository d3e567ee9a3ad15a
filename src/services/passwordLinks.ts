import { Op, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models, User } from '../../models/index.js';
import { MASK } from '../audit/index.js';
import { hashPassword, verifyPassword } from '../lib/passwords.js';
import { generateSetupToken, hashSetupToken, tokenKeys } from '../lib/tokens.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import { accountUsable, LOCAL_REALM } from '../lib/current-user.js';
import { inTransaction, type CommandContext } from './context.js';

/**
 * Opens a one-time set-password link for a local user (approval, admin reset): only the token's
 * HMAC is stored, the link is built from PUBLIC_URL (never from the request's Host header).
 */
export async function issuePasswordLink(config: Config, user: User, transaction?: Transaction): Promise<string> {
  const { token, hash } = generateSetupToken(tokenKeys(config));
  await user.update({ passwordSetupHash: hash, passwordSetupExpiresAt: new Date(Date.now() + config.PASSWORD_LINK_HOURS * 3600_000) }, { transaction });
  return `${config.publicUrl}/set-password?token=${encodeURIComponent(token)}`;
}

/** The user a set-password token belongs to, when the link is still open and the account usable. */
export async function userForPasswordToken(models: Models, config: Config, token: unknown): Promise<User | null> {
  if (typeof token !== 'string') return null;
  const hash = hashSetupToken(tokenKeys(config), token);
  if (!hash) return null;
  const user = await models.User.findOne({ where: { passwordSetupHash: hash, passwordSetupExpiresAt: { [Op.gt]: new Date() }, realm: LOCAL_REALM } });
  return user && accountUsable(user) ? user : null;
}

/** What a holder of a used, expired or unknown set-password link is told. */
export const LINK_CLOSED_MESSAGE = 'This link is invalid, was already used, or has expired. Ask an administrator for a new one.';

/**
 * Sets a new password and ends every session of the user (old cookies stop working), audited as
 * `action` (user.password-set from a link, user.password-change by the user) with the value masked.
 * The slow hash is computed before the transaction, so the write lock is held only for the writes.
 * With `linkHash`, the write happens only while that link is still open and closes it in the same
 * statement, so of two requests racing with one link exactly one sets the password (NotFoundError
 * for the other).
 */
export async function setPassword(cmd: CommandContext, user: User, password: string, action = 'user.password-set', linkHash?: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  const hadPassword = user.passwordHash !== null;
  await inTransaction(cmd, async (transaction) => {
    const where = linkHash ? { id: user.id, passwordSetupHash: linkHash, passwordSetupExpiresAt: { [Op.gt]: new Date() } } : { id: user.id };
    const [written] = await cmd.models.User.update({ passwordHash, passwordChangedAt: new Date(), passwordSetupHash: null, passwordSetupExpiresAt: null }, { where, transaction });
    if (!written) throw new NotFoundError(linkHash ? LINK_CLOSED_MESSAGE : 'No such user.');
    await user.reload({ transaction });
    await cmd.models.Session.destroy({ where: { userId: user.id }, transaction });
    const changes = { password: { before: hadPassword ? MASK : null, after: MASK } };
    await cmd.auditor.record(cmd.actor, { action, objectType: 'user', objectId: user.id, objectLabel: user.username, changes }, transaction);
  });
}

/**
 * Sets the password of the user a set-password link belongs to, closing the link (it works once).
 * The actor is whoever is logged in (usually nobody): the link's holder is not known to be its user.
 */
export async function setPasswordFromLink(cmd: CommandContext, user: User, password: string): Promise<void> {
  if (!user.passwordSetupHash) throw new NotFoundError(LINK_CLOSED_MESSAGE);
  await setPassword(cmd, user, password, 'user.password-set', user.passwordSetupHash);
}

/** A local user changing their own password: the current one must be right. */
export async function changeOwnPassword(cmd: CommandContext, user: User, current: string, next: string): Promise<void> {
  if (!(await verifyPassword(user.passwordHash, current))) {
    throw new ValidationError('Your current password is not right.', { currentPassword: 'Not your current password.' });
  }
  await setPassword(cmd, user, next, 'user.password-change');
}
