import { Router, type Request, type Response } from 'express';
import { parseInput } from '../lib/parse-input.js';
import { safeRedirectPath } from '../lib/safe-redirect.js';
import { access } from '../policies/access.js';
import { LOCAL_REALM } from '../lib/current-user.js';
import { LoginService } from '../services/login.js';
import { endSession, sessionAudit, startSession } from '../services/sessionLogin.js';
import { loginFormValues, loginInput, loginPageQuery, REALM_COOKIE, rememberedRealmCookie } from './auth.schema.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { formHandler, respond, type FormFailure, type PageAnswer } from './respond.js';

/** Login and logout. A fresh install (no users yet) shows how to create the first admin instead. */
export function authRoutes(ctx: RouteContext) {
  const { models, config, logger, publicLimit } = ctx;
  const logins = new LoginService(models, config, logger);

  /** The login page, with what was submitted (on POST) and why it was refused. */
  async function loginPage(req: Request, status: number, error?: string, fields?: Record<string, string>): Promise<PageAnswer> {
    const realms = logins.proxmox.configured ? await logins.proxmox.realmChoices() : [];
    const submitted = parseInput(loginFormValues, req.body);
    const { next } = parseInput(loginPageQuery, req.query);
    // Berth (local) unless this browser last logged in with a realm still offered: never the node's
    // default realm, which made every local account (the first admin) fail with the form's defaults.
    const remembered = parseInput(rememberedRealmCookie, req.headers.cookie);
    const fallback = remembered && realms.some((r) => r.realm === remembered) ? remembered : LOCAL_REALM;
    return {
      view: 'auth/login',
      status,
      locals: {
        title: 'Log in',
        error,
        fields: fields ?? {},
        values: { username: submitted.username, realm: submitted.realm ?? fallback },
        realms,
        next: safeRedirectPath(submitted.next ?? next, ''),
      },
    };
  }

  async function renderLogin(req: Request, res: Response, status: number, error?: string, fields?: Record<string, string>) {
    const page = await loginPage(req, status, error, fields);
    res.status(status).render(page.view, page.locals);
  }

  async function loginForm(req: Request, res: Response) {
    if (req.user) return res.redirect(303, safeRedirectPath(parseInput(loginPageQuery, req.query).next));
    if ((await models.User.count()) === 0) return res.render('auth/first-admin', { title: 'Welcome to Berth' });
    await renderLogin(req, res, 200);
  }

  async function login(req: Request, res: Response) {
    const input = parseInput(loginInput, req.body);
    const cmd = commandContext(ctx, req);
    const outcome = await logins.logIn({ username: input.username, realm: input.realm, password: input.password, ip: req.ip ?? '' });
    if (!outcome.ok) {
      // Only failures the throttle counts (401) are audited, so a locked-out guesser (429) cannot grow the table.
      if (outcome.status === 401) await sessionAudit.loginFailed(cmd, input.username);
      req.log.info({ username: input.username, realm: input.realm, status: outcome.status }, 'login failed');
      return respond(req, res, {
        status: outcome.status,
        json: { error: outcome.message, ...(outcome.fields ? { fields: outcome.fields } : {}) },
        page: () => loginPage(req, outcome.status, outcome.message, outcome.fields),
      });
    }
    const user = outcome.user;
    await startSession(req, user);
    res.cookie(REALM_COOKIE, user.realm, { httpOnly: true, sameSite: 'lax', secure: req.secure, maxAge: 365 * 24 * 3600 * 1000 });
    await sessionAudit.login(cmd, user);
    req.log.info({ userId: user.id, realm: user.realm }, 'login succeeded');
    const redirect = safeRedirectPath(input.next);
    await respond(req, res, { json: { success: true, redirect }, redirect });
  }

  async function logout(req: Request, res: Response) {
    // A visitor with no session ends nothing worth recording.
    if (req.user) await sessionAudit.logout(commandContext(ctx, req), req.user);
    await endSession(req);
    res.clearCookie('berth.sid');
    await respond(req, res, { json: { success: true, redirect: '/login' }, redirect: '/login' });
  }

  function rerenderLogin(req: Request, res: Response, failure: FormFailure) {
    return renderLogin(req, res, failure.status, failure.error, failure.fields);
  }

  const router = Router();
  router.get('/login', access.public, publicLimit, loginForm);
  router.post('/login', access.public, publicLimit, formHandler(login, rerenderLogin));
  router.post('/logout', access.public, logout);
  return router;
}
