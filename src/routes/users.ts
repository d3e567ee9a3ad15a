import { Router, type Request, type Response } from 'express';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { authorize } from '../policies/authorize.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { mailNote, mailOnItsWay } from '../notify/mail-note.js';
import { presentUserRow } from '../presenters/user.js';
import { disableUser, enableUser, resetUserPassword, setUserRole } from '../services/users.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { respond } from './respond.js';
import { roleInput } from './users.schema.js';

/** Admin user management: list, show, disable/enable, role, password reset (local accounts). */
export function userRoutes(ctx: RouteContext) {
  const { models, config } = ctx;
  const load = subjectLoaders(models);

  /** After a change: a message for API clients, the same as a flash on the user's page for browsers. */
  const done = (req: Request, res: Response, id: number, message: string) =>
    respond(req, res, { json: { success: true, message }, flash: { type: 'success', message }, redirect: `/users/${id}` });

  async function list(req: Request, res: Response) {
    const users = (await models.User.findAll({ order: [['username', 'ASC']], limit: 1000 })).map((u) => presentUserRow(u));
    await respond(req, res, { json: { users }, page: { view: 'users/index', locals: { title: 'Users', users } } });
  }

  async function show(req: Request, res: Response) {
    const user = presentUserRow(loaded(res, 'user'));
    await respond(req, res, { json: { user }, page: { view: 'users/show', locals: { title: user.username, user } } });
  }

  async function disable(req: Request, res: Response) {
    const user = loaded(res, 'user');
    await disableUser(commandContext(ctx, req), user);
    req.log.info({ targetUserId: user.id }, 'user disabled');
    await done(req, res, user.id, `${user.username} is disabled and was logged out.`);
  }

  async function enable(req: Request, res: Response) {
    const user = loaded(res, 'user');
    await enableUser(commandContext(ctx, req), user);
    req.log.info({ targetUserId: user.id }, 'user enabled');
    await done(req, res, user.id, `${user.username} is enabled.`);
  }

  async function changeRole(req: Request, res: Response) {
    const user = loaded(res, 'user');
    const { role } = parseInput(roleInput, req.body);
    if (role !== 'admin') authorize(req.user, 'demote', { kind: 'user', owner: null, id: user.id });
    await setUserRole(commandContext(ctx, req), user, role);
    req.log.info({ targetUserId: user.id, role }, 'user role changed');
    const note = role === 'user' && user.proxmoxAdmin ? ` (still an admin through the Proxmox group ${config.PROXMOX_ADMIN_GROUP})` : '';
    await done(req, res, user.id, `${user.username}'s Berth role is now ${role}${note}.`);
  }

  async function resetPassword(req: Request, res: Response) {
    const user = loaded(res, 'user');
    const { link, mail } = await resetUserPassword(commandContext(ctx, req), user);
    // The link is shown once, here, whether or not a mail with it was queued: the admin can always
    // hand it over (the service queues no mail when it could only arrive late, or not at all).
    const emailed = mailOnItsWay(mail);
    req.log.info({ targetUserId: user.id, emailed, outboxId: mail.outboxId }, 'password reset');
    const handOver = emailed ? '' : ' The link must be handed over.';
    const message = `${user.username}'s password was reset. Their one-time link to choose a new one (shown only now): ${link} ${mailNote(mail, 'An email with the link', user.username)}${handOver}`;
    await respond(req, res, {
      json: { success: true, emailed, outboxId: mail.outboxId, link, ...(mail.reason ? { warning: mail.reason } : {}) },
      flash: { type: emailed ? 'success' : 'info', message },
      redirect: `/users/${user.id}`,
    });
  }

  const router = Router();
  router.get('/users', access.admin, list);
  router.get('/users/:id', access.admin, load.user('view'), show);
  router.post('/users/:id/disable', access.admin, load.user('disable'), disable);
  router.post('/users/:id/enable', access.admin, load.user('change'), enable);
  router.post('/users/:id/role', access.admin, load.user('change'), changeRole);
  router.post('/users/:id/reset-password', access.admin, load.user('change'), resetPassword);
  return router;
}
