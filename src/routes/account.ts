import { Router, type Request, type Response } from 'express';
import type { User } from '../../models/index.js';
import { NotFoundError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { access, sessionOnly } from '../policies/access.js';
import { can } from '../policies/authorize.js';
import { changeOwnPassword, LINK_CLOSED_MESSAGE, setPasswordFromLink, userForPasswordToken } from '../services/passwordLinks.js';
import { startSession } from '../services/sessionLogin.js';
import { changePasswordInput, linkTokenInput, setPasswordInput } from './account.schema.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { formHandler, respond, type FormFailure } from './respond.js';

/** The user's own account page, password change, and the emailed set-password link. */
export function accountRoutes(ctx: RouteContext) {
  const { models, config } = ctx;

  /** The account page's locals, with a failed password change's messages. */
  function accountPage(req: Request, error?: string, fields?: Record<string, string>) {
    // The SMTP check (POST /send-test-email) exists for admins outside production only.
    const testEmail = !config.isProduction && can(req.user, 'sendTestEmail');
    return { title: 'Your account', error, fields: fields ?? {}, testEmail };
  }

  async function show(req: Request, res: Response) {
    await respond(req, res, { json: { user: req.user }, page: { view: 'account/show', locals: accountPage(req) } });
  }

  async function changePassword(req: Request, res: Response) {
    if (!req.user!.isLocal) throw new NotFoundError('Proxmox accounts change their password in Proxmox.');
    const input = parseInput(changePasswordInput, req.body);
    const user = await models.User.findByPk(req.user!.id);
    if (!user) throw new NotFoundError();
    await changeOwnPassword(commandContext(ctx, req), user, input.currentPassword, input.newPassword);
    // Every other session of the user ended; this one continues on a new id.
    await startSession(req, user);
    req.log.info({ userId: user.id }, 'password changed');
    await respond(req, res, {
      json: { success: true },
      flash: { type: 'success', message: 'Your password was changed. Your other sessions were logged out.' },
      redirect: '/account',
    });
  }

  function rerenderAccount(req: Request, res: Response, failure: FormFailure) {
    res.status(failure.status).render('account/show', accountPage(req, failure.error, failure.fields));
  }

  /** The set-password page's locals. */
  const setPasswordPage = (token: string, valid: boolean, error?: string, fields?: Record<string, string>) =>
    ({ title: 'Choose your password', token, valid, error, fields: fields ?? {} });

  /** A used, expired or unknown link: 404 with the same message for both audiences. */
  const linkClosed = (req: Request, res: Response, token: string) =>
    respond(req, res, { status: 404, json: { error: LINK_CLOSED_MESSAGE }, page: { view: 'account/set-password', locals: setPasswordPage(token, false, LINK_CLOSED_MESSAGE) } });

  async function setPasswordForm(req: Request, res: Response) {
    const { token } = parseInput(linkTokenInput, req.query);
    const user = await userForPasswordToken(models, config, token);
    res.status(user ? 200 : 404).render('account/set-password', setPasswordPage(token, Boolean(user), user ? undefined : LINK_CLOSED_MESSAGE));
  }

  async function setPassword(req: Request, res: Response) {
    const { token } = parseInput(linkTokenInput, req.body);
    const user = await userForPasswordToken(models, config, token);
    if (!user) return linkClosed(req, res, token);
    const input = parseInput(setPasswordInput, req.body);
    if (!(await setPasswordOnce(req, user, input.newPassword))) return linkClosed(req, res, token);
    req.log.info({ userId: user.id }, 'password set from link');
    await respond(req, res, {
      json: { success: true, redirect: '/login' },
      flash: { type: 'success', message: `Your password is set. Log in as ${user.username}.` },
      redirect: '/login',
    });
  }

  /** Uses the link; false when another request used it between the look-up and the write. */
  async function setPasswordOnce(req: Request, user: User, password: string): Promise<boolean> {
    try {
      await setPasswordFromLink(commandContext(ctx, req), user, password);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async function rerenderSetPassword(req: Request, res: Response, failure: FormFailure) {
    const { token } = parseInput(linkTokenInput, req.body);
    res.status(failure.status).render('account/set-password', setPasswordPage(token, true, failure.error, failure.fields));
  }

  const router = Router();
  router.get('/account', access.user, show);
  router.post('/account/password', access.user, sessionOnly, formHandler(changePassword, rerenderAccount));
  router.get('/set-password', access.public, setPasswordForm);
  router.post('/set-password', access.public, formHandler(setPassword, rerenderSetPassword));
  return router;
}
