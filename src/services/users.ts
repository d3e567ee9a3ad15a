import type { Transaction } from 'sequelize';
import type { User } from '../../models/index.js';
import { MASK, type Changes } from '../audit/index.js';
import { ConflictError } from '../lib/errors.js';
import { isLocalAccount } from '../lib/current-user.js';
import { mailQueued, queueMail, type MailResult } from '../notify/outbox.js';
import { inTransaction, type CommandContext } from './context.js';
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
 * Clears a local user's password, ends their sessions and opens a one-time set-password link, and
 * queues the mail with the link in the same transaction. The caller always gets the link (the admin
 * sees it once). Without an address, or with mail not configured (SMTP_HOST unset), no mail is
 * queued: it would wait in the outbox and arrive with a stale link, so the admin hands the link over.
 * Proxmox accounts are a 409: their password lives in Proxmox.
 */
export async function resetUserPassword(cmd: CommandContext, user: User): Promise<{ link: string; mail: MailResult }> {
  if (!isLocalAccount(user)) throw new ConflictError('Proxmox accounts have their password reset in Proxmox.');
  const { config } = cmd;
  return inTransaction(cmd, async (transaction) => {
    const hadPassword = user.passwordHash !== null;
    await user.update({ passwordHash: null }, { transaction });
    await cmd.models.Session.destroy({ where: { userId: user.id }, transaction });
    const link = await issuePasswordLink(cmd.config, user, transaction);
    // The trail says the password was cleared, never what it was.
    await auditUser(cmd, user, 'user.password-reset', { password: { before: hadPassword ? MASK : null, after: null } }, transaction);
    if (!user.email) return { link, mail: { outboxId: null, reason: 'no email address' } };
    if (!config.SMTP_HOST) return { link, mail: { outboxId: null, reason: 'SMTP_HOST is not configured' } };
    const row = await queueMail(
      cmd,
      { to: [user.email], subject: 'Your Berth password was reset', template: 'password-reset', category: 'password-reset', forUser: user.username, data: { name: user.displayName || user.username, username: user.username, link, hours: config.PASSWORD_LINK_HOURS } },
      transaction,
    );
    return { link, mail: mailQueued(config, row) };
  });
}
