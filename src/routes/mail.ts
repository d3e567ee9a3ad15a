import { Router, type Request, type Response } from 'express';
import { queueTestMail } from '../notify/test-mail.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { testEmailInput } from './mail.schema.js';
import { respond } from './respond.js';

/**
 * POST /send-test-email (admins, not in production): checks the mail path end to end. The message is
 * queued in the outbox like every other and delivered by the job runner; the answer says it was
 * queued and under which outbox id (the outbox page shows whether it went). A POST behind the CSRF
 * check, never a GET: a link or redirect from another site must not send mail as a logged-in admin.
 * The account page has the form.
 */
export function mailRoutes(ctx: RouteContext) {
  const { config } = ctx;
  const router = Router();
  if (config.isProduction) return router;

  async function sendTestEmail(req: Request, res: Response) {
    const { to } = parseInput(testEmailInput, req.body ?? {});
    const recipient = to ?? req.user!.email ?? config.ADMIN_EMAILS[0];
    if (!recipient) {
      const error = 'Your account has no email address: give one in `to`.';
      return respond(req, res, { status: 422, json: { error, fields: { to: error } }, flash: { type: 'error', message: error }, redirect: '/account' });
    }
    const { outboxId, reason } = await queueTestMail(commandContext(ctx, req), recipient);
    const note = reason ? ` It waits there: ${reason}.` : ' The job runner sends it.';
    await respond(req, res, {
      status: 202,
      json: { queued: true, outboxId, to: recipient, ...(reason ? { warning: reason } : {}) },
      flash: { type: reason ? 'info' : 'success', message: `A test email to ${recipient} is queued (outbox message ${outboxId}).${note}` },
      redirect: '/account',
    });
  }

  router.post('/send-test-email', access.admin, sendTestEmail);
  return router;
}
