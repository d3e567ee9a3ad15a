import { Router } from 'express';
import { z } from 'zod';
import { mailerFor } from '../lib/mail/index.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import type { RouteContext } from './index.js';

const testEmailQuery = z.object({ to: z.email('Give a valid address in ?to=').optional() });

/** GET /send-test-email (admins, not in production): checks the SMTP settings end to end. */
export function mailRoutes({ config, logger }: RouteContext) {
  const router = Router();
  if (config.isProduction) return router;
  const mailer = mailerFor(config, logger);

  router.get('/send-test-email', access.admin, async (req, res) => {
    const { to } = parseInput(testEmailQuery, req.query);
    const recipient = to ?? req.user!.email ?? config.ADMIN_EMAILS[0];
    if (!recipient) return res.status(422).json({ error: 'Your account has no email address: pass ?to=you@example.org.' });
    const result = await mailer.send({ to: recipient, subject: 'Berth test email', template: 'test-email', data: { sender: req.user!.username } });
    res.status(result.sent ? 200 : 502).json({ sent: result.sent, to: recipient, ...(result.sent ? {} : { error: `The email could not be sent: ${result.reason}` }) });
  });

  return router;
}
