import { Router, type Request, type Response } from 'express';
import { actorOf } from '../audit/index.js';
import { ValidationError } from '../lib/errors.js';
import { safeRedirectPath } from '../lib/safe-redirect.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { LOCAL_REALM, LoginService } from '../services/login.js';
import { REALM_RE } from '../services/proxmoxLogin.js';
import { endSession, startSession } from '../services/sessionLogin.js';
import { loginInput } from './auth.schema.js';
import type { RouteContext } from './index.js';

/** Remembers the realm of this browser's last login, to preselect it on the form (not a secret). */
const REALM_COOKIE = 'berth.realm';

function rememberedRealm(req: Request): string | null {
  const match = /(?:^|;\s*)berth\.realm=([^;]*)/.exec(req.headers.cookie ?? '');
  return match && REALM_RE.test(match[1]) ? match[1] : null;
}

/** Login and logout. A fresh install (no users yet) shows how to create the first admin instead. */
export function authRoutes({ models, config, logger, auditor, publicLimit }: RouteContext) {
  const router = Router();
  const logins = new LoginService(models, config, logger);

  async function renderLogin(req: Request, res: Response, status: number, error?: string, fields?: Record<string, string>) {
    const realms = logins.proxmox.configured ? await logins.proxmox.realmChoices() : [];
    const body = req.body as Record<string, unknown> | undefined;
    // Berth (local) unless this browser last logged in with a realm still offered: never the node's
    // default realm, which made every local account (the first admin) fail with the form's defaults.
    const remembered = rememberedRealm(req);
    const fallback = remembered && realms.some((r) => r.realm === remembered) ? remembered : LOCAL_REALM;
    const chosen = typeof body?.realm === 'string' ? body.realm : fallback;
    res.status(status).render('auth/login', {
      title: 'Log in',
      error,
      fields: fields ?? {},
      values: { username: typeof body?.username === 'string' ? body.username : '', realm: chosen },
      realms,
      next: safeRedirectPath(body?.next ?? req.query.next, ''),
    });
  }

  router.get('/login', access.public, publicLimit, async (req, res) => {
    if (req.user) return res.redirect(303, safeRedirectPath(req.query.next));
    if ((await models.User.count()) === 0) return res.render('auth/first-admin', { title: 'Welcome to Berth' });
    await renderLogin(req, res, 200);
  });

  router.post('/login', access.public, publicLimit, async (req, res) => {
    let input;
    try {
      input = parseInput(loginInput, req.body);
    } catch (err) {
      if (err instanceof ValidationError && !wantsJson(req)) return renderLogin(req, res, 422, err.message, err.fields);
      throw err;
    }
    const outcome = await logins.logIn({ username: input.username, realm: input.realm, password: input.password, ip: req.ip ?? '' });
    if (!outcome.ok) {
      // Only failures the throttle counts (401) are audited, so a locked-out guesser (429) cannot grow
      // the table; the password is never part of the event.
      if (outcome.status === 401) {
        await auditor.record({ ...actorOf(req), username: null }, { action: 'session.login-failed', objectType: 'session', objectLabel: input.username });
      }
      req.log.info({ username: input.username, realm: input.realm, status: outcome.status }, 'login failed');
      if (wantsJson(req)) return res.status(outcome.status).json({ error: outcome.message, ...(outcome.fields ? { fields: outcome.fields } : {}) });
      return renderLogin(req, res, outcome.status, outcome.message, outcome.fields);
    }
    await startSession(req, outcome.user);
    res.cookie(REALM_COOKIE, outcome.user.realm, { httpOnly: true, sameSite: 'lax', secure: req.secure, maxAge: 365 * 24 * 3600 * 1000 });
    // Not in a transaction: the session row is written by the session store.
    const user = outcome.user;
    await auditor.record({ ...actorOf(req), username: user.username }, { action: 'session.login', objectType: 'session', objectId: user.id, objectLabel: user.username });
    req.log.info({ userId: outcome.user.id, realm: outcome.user.realm }, 'login succeeded');
    const redirect = safeRedirectPath(input.next);
    if (wantsJson(req)) return res.json({ success: true, redirect });
    res.redirect(303, redirect);
  });

  router.post('/logout', access.public, async (req, res) => {
    // A visitor with no session ends nothing worth recording.
    if (req.user) await auditor.record(actorOf(req), { action: 'session.logout', objectType: 'session', objectId: req.user.id, objectLabel: req.user.username });
    await endSession(req);
    res.clearCookie('berth.sid');
    if (wantsJson(req)) return res.json({ success: true, redirect: '/login' });
    res.redirect(303, '/login');
  });

  return router;
}
