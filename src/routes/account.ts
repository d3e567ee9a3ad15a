import { Router, type Request, type Response } from 'express';
import { actorOf } from '../audit/index.js';
import { AppError, NotFoundError } from '../lib/errors.js';
import { flash } from '../middlewares/flash.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { sessionOnly } from '../policies/tokens.js';
import { changeOwnPassword, LINK_CLOSED_MESSAGE, setPasswordFromLink, userForPasswordToken } from '../services/passwordLinks.js';
import { startSession } from '../services/sessionLogin.js';
import { changePasswordInput, setPasswordInput } from './account.schema.js';
import type { RouteContext } from './index.js';

/** The user's own account page, password change, and the emailed set-password link. */
export function accountRoutes({ models, sequelize, auditor, config }: RouteContext) {
  const deps = { models, sequelize, auditor };
  const router = Router();

  function renderAccount(req: Request, res: Response, status: number, error?: string, fields?: Record<string, string>) {
    // The SMTP check (POST /send-test-email) exists for admins outside production only.
    const testEmail = !config.isProduction && req.user!.isAdmin;
    res.status(status).render('account/show', { title: 'Your account', error, fields: fields ?? {}, testEmail });
  }

  router.get('/account', access.user, (req, res) => {
    if (wantsJson(req)) return res.json({ user: req.user });
    renderAccount(req, res, 200);
  });

  router.post('/account/password', access.user, sessionOnly, async (req, res) => {
    try {
      if (!req.user!.isLocal) throw new NotFoundError('Proxmox accounts change their password in Proxmox.');
      const input = parseInput(changePasswordInput, req.body);
      const user = await models.User.findByPk(req.user!.id);
      if (!user) throw new NotFoundError();
      await changeOwnPassword(deps, user, input.currentPassword, input.newPassword, actorOf(req));
      // Every other session of the user ended; this one continues on a new id.
      await startSession(req, user);
      req.log.info({ userId: user.id }, 'password changed');
      if (wantsJson(req)) return res.json({ success: true });
      flash(req, 'success', 'Your password was changed. Your other sessions were logged out.');
      res.redirect(303, '/account');
    } catch (err) {
      if (err instanceof AppError && err.status === 422 && !wantsJson(req)) return renderAccount(req, res, 422, err.message, err.fields);
      throw err;
    }
  });

  function renderSetPassword(res: Response, status: number, token: string, valid: boolean, error?: string, fields?: Record<string, string>) {
    res.status(status).render('account/set-password', { title: 'Choose your password', token, valid, error, fields: fields ?? {} });
  }

  router.get('/set-password', access.public, async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const user = await userForPasswordToken(models, config, token);
    renderSetPassword(res, user ? 200 : 404, token, Boolean(user), user ? undefined : LINK_CLOSED_MESSAGE);
  });

  router.post('/set-password', access.public, async (req, res) => {
    const token = typeof req.body?.token === 'string' ? req.body.token : '';
    const user = await userForPasswordToken(models, config, token);
    const closed = () => (wantsJson(req) ? res.status(404).json({ error: LINK_CLOSED_MESSAGE }) : renderSetPassword(res, 404, token, false, LINK_CLOSED_MESSAGE));
    if (!user) return closed();
    try {
      const input = parseInput(setPasswordInput, req.body);
      // The actor is whoever is logged in (usually nobody): the link's holder is not known to be its user.
      await setPasswordFromLink(deps, user, input.newPassword, actorOf(req));
    } catch (err) {
      // Another request used the link between the look-up and the write.
      if (err instanceof NotFoundError) return closed();
      if (err instanceof AppError && err.status === 422 && !wantsJson(req)) return renderSetPassword(res, 422, token, true, err.message, err.fields);
      throw err;
    }
    req.log.info({ userId: user.id }, 'password set from link');
    if (wantsJson(req)) return res.json({ success: true, redirect: '/login' });
    flash(req, 'success', `Your password is set. Log in as ${user.username}.`);
    res.redirect(303, '/login');
  });

  return router;
}
