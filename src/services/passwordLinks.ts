import { Op, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models, User } from '../../models/index.js';
import { hashPassword, verifyPassword } from '../lib/passwords.js';
import { generateSetupToken, hashSetupToken, tokenKeys } from '../lib/tokens.js';
import { ValidationError } from '../lib/errors.js';
import { accountUsable } from '../policies/users.js';

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
  const user = await models.User.findOne({ where: { passwordSetupHash: hash, passwordSetupExpiresAt: { [Op.gt]: new Date() }, realm: 'local' } });
  return user && accountUsable(user) ? user : null;
}

/** Sets a new password and ends every session of the user (old cookies stop working). */
export async function setPassword(models: Models, user: User, password: string): Promise<void> {
  await user.update({ passwordHash: await hashPassword(password), passwordChangedAt: new Date(), passwordSetupHash: null, passwordSetupExpiresAt: null });
  await models.Session.destroy({ where: { userId: user.id } });
}

/** A local user changing their own password: the current one must be right. */
export async function changeOwnPassword(models: Models, user: User, current: string, next: string): Promise<void> {
  if (!(await verifyPassword(user.passwordHash, current))) {
    throw new ValidationError('Your current password is not right.', { currentPassword: 'Not your current password.' });
  }
  await setPassword(models, user, next);
}
