import { Router, type Request, type Response } from 'express';
import { ValidationError } from '../lib/errors.js';
import { safeRedirectPath } from '../lib/safe-redirect.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { authenticateLocal, LOGIN_FAILED } from '../services/authenticateLocal.js';
import { endSession, startSession } from '../services/sessionLogin.js';
import { loginInput } from './auth.schema.js';
import type { RouteContext } from './index.js';

/** Login and logout. A fresh install (no users yet) shows how to create the first admin instead. */
export function authRoutes({ models, publicLimit }: RouteContext) {
  const router = Router();

  function renderLogin(req: Request, res: Response, status: number, error?: string, fields?: Record<string, string>) {
    res.status(status).render('auth/login', {
      title: 'Log in',
      error,
      fields: fields ?? {},
      values: { username: typeof req.body?.username === 'string' ? req.body.username : '' },
      next: safeRedirectPath(req.body?.next ?? req.query.next, ''),
    });
  }

  router.get('/login', access.public, publicLimit, async (req, res) => {
    if (req.user) return res.redirect(303, safeRedirectPath(req.query.next));
    if ((await models.User.count()) === 0) return res.render('auth/first-admin', { title: 'Welcome to Berth' });
    renderLogin(req, res, 200);
  });

  router.post('/login', access.public, publicLimit, async (req, res) => {
    let input;
    try {
      input = parseInput(loginInput, req.body);
    } catch (err) {
      if (err instanceof ValidationError && !wantsJson(req)) return renderLogin(req, res, 422, err.message, err.fields);
      throw err;
    }
    const user = await authenticateLocal(models, input.username, input.password);
    if (!user) {
      req.log.info({ username: input.username }, 'login failed');
      if (wantsJson(req)) return res.status(401).json({ error: LOGIN_FAILED });
      return renderLogin(req, res, 401, LOGIN_FAILED);
    }
    await startSession(req, user);
    await user.update({ lastLoginAt: new Date() });
    req.log.info({ userId: user.id }, 'login succeeded');
    const redirect = safeRedirectPath(input.next);
    if (wantsJson(req)) return res.json({ success: true, redirect });
    res.redirect(303, redirect);
  });

  router.post('/logout', access.public, async (req, res) => {
    await endSession(req);
    res.clearCookie('berth.sid');
    if (wantsJson(req)) return res.json({ success: true, redirect: '/login' });
    res.redirect(303, '/login');
  });

  return router;
}
