import { Router, type Request } from 'express';
import type { Transaction } from 'sequelize';
import type { User } from '../../models/index.js';
import { actorOf, MASK, type Changes } from '../audit/index.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { mailerFor } from '../lib/mail/index.js';
import { flash } from '../middlewares/flash.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { assertNotSelf } from '../policies/users.js';
import { presentUserRow } from '../presenters/user.js';
import { issuePasswordLink } from '../services/passwordLinks.js';
import { idParam } from '../lib/validators.js';
import type { RouteContext } from './index.js';
import { roleInput } from './users.schema.js';

/** Admin user management: list, show, disable/enable, role, password reset (local accounts). */
export function userRoutes({ models, sequelize, auditor, config, logger }: RouteContext) {
  const router = Router();
  const mailer = mailerFor(config, logger);

  async function load(params: unknown) {
    const { id } = parseInput(idParam, params);
    const user = await models.User.findByPk(id);
    if (!user) throw new NotFoundError('No such user.');
    return user;
  }
  /** One user.* event for the target user, in the transaction of the change. */
  const audit = (req: Request, user: User, action: string, changes: Changes, transaction: Transaction) =>
    auditor.record(actorOf(req), { action, objectType: 'user', objectId: user.id, objectLabel: user.username, changes }, transaction);
  const done = (req: Parameters<typeof flash>[0], res: import('express').Response, id: number, message: string) => {
    if (wantsJson(req)) return res.json({ success: true, message });
    flash(req, 'success', message);
    res.redirect(303, `/users/${id}`);
  };

  router.get('/users', access.admin, async (req, res) => {
    const users = (await models.User.findAll({ order: [['username', 'ASC']], limit: 1000 })).map((u) => presentUserRow(u));
    if (wantsJson(req)) return res.json({ users });
    res.render('users/index', { title: 'Users', users });
  });

  router.get('/users/:id', access.admin, async (req, res) => {
    const user = presentUserRow(await load(req.params));
    if (wantsJson(req)) return res.json({ user });
    res.render('users/show', { title: user.username, user });
  });

  router.post('/users/:id/disable', access.admin, async (req, res) => {
    const user = await load(req.params);
    assertNotSelf(req.user!, user, 'disable');
    const before = user.disabled;
    await sequelize.transaction(async (transaction) => {
      await user.update({ disabled: true }, { transaction });
      // Their sessions end now (currentUser would also refuse them at the next request).
      await models.Session.destroy({ where: { userId: user.id }, transaction });
      await audit(req, user, 'user.disable', before ? {} : { disabled: { before, after: true } }, transaction);
    });
    req.log.info({ targetUserId: user.id }, 'user disabled');
    done(req, res, user.id, `${user.username} is disabled and was logged out.`);
  });

  router.post('/users/:id/enable', access.admin, async (req, res) => {
    const user = await load(req.params);
    const before = user.disabled;
    await sequelize.transaction(async (transaction) => {
      await user.update({ disabled: false }, { transaction });
      await audit(req, user, 'user.enable', before ? { disabled: { before, after: false } } : {}, transaction);
    });
    req.log.info({ targetUserId: user.id }, 'user enabled');
    done(req, res, user.id, `${user.username} is enabled.`);
  });

  router.post('/users/:id/role', access.admin, async (req, res) => {
    const user = await load(req.params);
    const { role } = parseInput(roleInput, req.body);
    if (role !== 'admin') assertNotSelf(req.user!, user, 'demote');
    const before = user.role;
    await sequelize.transaction(async (transaction) => {
      await user.update({ role }, { transaction });
      await audit(req, user, 'user.role', before === role ? {} : { role: { before, after: role } }, transaction);
    });
    req.log.info({ targetUserId: user.id, role }, 'user role changed');
    const note = role === 'user' && user.proxmoxAdmin ? ` (still an admin through the Proxmox group ${config.PROXMOX_ADMIN_GROUP})` : '';
    done(req, res, user.id, `${user.username}'s Berth role is now ${role}${note}.`);
  });

  router.post('/users/:id/reset-password', access.admin, async (req, res) => {
    const user = await load(req.params);
    if (user.realm !== 'local') throw new ConflictError('Proxmox accounts have their password reset in Proxmox.');
    const link = await sequelize.transaction(async (transaction) => {
      const hadPassword = user.passwordHash !== null;
      await user.update({ passwordHash: null }, { transaction });
      await models.Session.destroy({ where: { userId: user.id }, transaction });
      const link = await issuePasswordLink(config, user, transaction);
      // The trail says the password was cleared, never what it was.
      await audit(req, user, 'user.password-reset', { password: { before: hadPassword ? MASK : null, after: null } }, transaction);
      return link;
    });
    // The email goes out once the reset is committed.
    const mail = user.email
      ? await mailer.send({ to: user.email, subject: 'Your Berth password was reset', template: 'password-reset', data: { name: user.displayName || user.username, username: user.username, link, hours: config.PASSWORD_LINK_HOURS } })
      : { sent: false, reason: 'no email address' };
    req.log.info({ targetUserId: user.id, emailed: mail.sent }, 'password reset');
    // Without a delivered email the admin hands the link over; it is shown once, here.
    const message = mail.sent
      ? `${user.username}'s password was reset; a link to choose a new one was emailed.`
      : `${user.username}'s password was reset. The email could not be sent (${mail.reason}); give them this link: ${link}`;
    if (wantsJson(req)) return res.json({ success: true, emailed: mail.sent, ...(mail.sent ? {} : { link }) });
    flash(req, mail.sent ? 'success' : 'info', message);
    res.redirect(303, `/users/${user.id}`);
  });

  return router;
}
