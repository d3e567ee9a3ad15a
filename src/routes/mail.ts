import { Router, type Request, type Response } from 'express';
import { mailerFor } from '../lib/mail/index.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import type { RouteContext } from './context.js';
import { testEmailInput } from './mail.schema.js';
import { respond } from './respond.js';

/**
 * POST /send-test-email (admins, not in production): checks the SMTP settings end to end. A POST
 * behind the CSRF check, never a GET: a link or redirect from another site must not send mail as a
 * logged-in admin. The account page has the form.
 */
export function mailRoutes({ config, logger }: RouteContext) {
  const router = Router();
  if (config.isProduction) return router;
  const mailer = mailerFor(config, logger);

  async function sendTestEmail(req: Request, res: Response) {
    const { to } = parseInput(testEmailInput, req.body ?? {});
    const recipient = to ?? req.user!.email ?? config.ADMIN_EMAILS[0];
    if (!recipient) {
      const error = 'Your account has no email address: give one in `to`.';
      return respond(req, res, { status: 422, json: { error, fields: { to: error } }, flash: { type: 'error', message: error }, redirect: '/account' });
    }
    const result = await mailer.send({ to: recipient, subject: 'Berth test email', template: 'test-email', data: { sender: req.user!.username } });
    const error = result.sent ? undefined : `The email could not be sent: ${result.reason}`;
    await respond(req, res, {
      status: result.sent ? 200 : 502,
      json: { sent: result.sent, to: recipient, ...(error ? { error } : {}) },
      flash: error ? { type: 'error', message: error } : { type: 'success', message: `A test email was sent to ${recipient}.` },
      redirect: '/account',
    });
  }

  router.post('/send-test-email', access.admin, sendTestEmail);
  return router;
}
