import type { Transaction } from 'sequelize';
import type { User } from '../../models/index.js';
import { MASK, type Changes } from '../audit/index.js';
import { ConflictError } from '../lib/errors.js';
import { isLocalAccount } from '../lib/current-user.js';
import type { SendResult } from '../lib/mail/index.js';
import { inTransaction, mailerOf, type CommandContext } from './context.js';
import { issuePasswordLink } from './passwordLinks.js';

/**
 * An admin's commands on another account: disable, enable, change the Berth role, reset a local
 * password. Each changes the row, ends sessions where the change must take effect at once, and
 * records one user.* event, in one transaction. Who may do them (admins, never to themselves) is
 * decided by the caller through src/policies/authorize.ts.
 */

/** One user.* event for `user`, in the transaction of the change. */
function auditUser(cmd: CommandContext, user: User, action: string, changes: Changes, transaction: Transaction) {
  return cmd.auditor.record(cmd.actor, { action, objectType: 'user', objectId: user.id, objectLabel: user.username, changes }, transaction);
}

/** Disables `user` and ends their sessions now (currentUser would also refuse them at the next request). */
export async function disableUser(cmd: CommandContext, user: User): Promise<void> {
  const before = user.disabled;
  await inTransaction(cmd, async (transaction) => {
    await user.update({ disabled: true }, { transaction });
    await cmd.models.Session.destroy({ where: { userId: user.id }, transaction });
    await auditUser(cmd, user, 'user.disable', before ? {} : { disabled: { before, after: true } }, transaction);
  });
}

/** Enables `user` again (their end date, if past, still keeps them out). */
export async function enableUser(cmd: CommandContext, user: User): Promise<void> {
  const before = user.disabled;
  await inTransaction(cmd, async (transaction) => {
    await user.update({ disabled: false }, { transaction });
    await auditUser(cmd, user, 'user.enable', before ? { disabled: { before, after: false } } : {}, transaction);
  });
}

/** Sets `user`'s Berth role (a Proxmox admin group membership is separate and unaffected). */
export async function setUserRole(cmd: CommandContext, user: User, role: 'admin' | 'user'): Promise<void> {
  const before = user.role;
  await inTransaction(cmd, async (transaction) => {
    await user.update({ role }, { transaction });
    await auditUser(cmd, user, 'user.role', before === role ? {} : { role: { before, after: role } }, transaction);
  });
}

/**
 * Clears a local user's password, ends their sessions and opens a one-time set-password link, then
 * (once committed) emails the link. Without a delivered email the caller hands the link over.
 * Proxmox accounts are a 409: their password lives in Proxmox.
 */
export async function resetUserPassword(cmd: CommandContext, user: User): Promise<{ link: string; mail: SendResult }> {
  if (!isLocalAccount(user)) throw new ConflictError('Proxmox accounts have their password reset in Proxmox.');
  const link = await inTransaction(cmd, async (transaction) => {
    const hadPassword = user.passwordHash !== null;
    await user.update({ passwordHash: null }, { transaction });
    await cmd.models.Session.destroy({ where: { userId: user.id }, transaction });
    const link = await issuePasswordLink(cmd.config, user, transaction);
    // The trail says the password was cleared, never what it was.
    await auditUser(cmd, user, 'user.password-reset', { password: { before: hadPassword ? MASK : null, after: null } }, transaction);
    return link;
  });
  const { config } = cmd;
  const mail = user.email
    ? await mailerOf(cmd).send({ to: user.email, subject: 'Your Berth password was reset', template: 'password-reset', data: { name: user.displayName || user.username, username: user.username, link, hours: config.PASSWORD_LINK_HOURS } })
    : { sent: false as const, reason: 'no email address' };
  return { link, mail };
}
