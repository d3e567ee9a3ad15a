import { Router } from 'express';
import { actorOf } from '../audit/index.js';
import { mailerFor } from '../lib/mail/index.js';
import { flash } from '../middlewares/flash.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { presentAccountRequest } from '../presenters/user.js';
import { approveAccountRequest, rejectAccountRequest } from '../services/accountRequests.js';
import { idParam } from '../lib/validators.js';
import { decisionInput } from './account.schema.js';
import type { RouteContext } from './index.js';

/** Admins review account requests: approve (account created, requester emailed) or reject (with a reason). */
export function accountRequestRoutes({ models, sequelize, config, logger, auditor }: RouteContext) {
  const router = Router();
  const deps = { models, sequelize, config, auditor, mailer: mailerFor(config, logger) };

  router.get('/account-requests', access.admin, async (req, res) => {
    const rows = await models.AccountRequest.findAll({ order: [['createdAt', 'DESC']], limit: 200 });
    const requests = rows.map(presentAccountRequest);
    if (wantsJson(req)) return res.json({ requests });
    res.render('account/requests', {
      title: 'Account requests',
      pending: requests.filter((r) => r.status === 'pending'),
      decided: requests.filter((r) => r.status !== 'pending'),
    });
  });

  router.post('/account-requests/:id/approve', access.admin, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    const { user, mail } = await approveAccountRequest(deps, id, req.user!.id, actorOf(req));
    req.log.info({ accountRequestId: id, userId: user.id }, 'account request approved');
    const mailNote = mail.sent ? 'The requester was emailed a link to set a password.' : `The email could not be sent (${mail.reason}): reset the password from the user page to get a new link.`;
    if (wantsJson(req)) return res.json({ success: true, userId: user.id, emailed: mail.sent });
    flash(req, mail.sent ? 'success' : 'error', `Account ${user.username} created. ${mailNote}`);
    res.redirect(303, '/account-requests');
  });

  router.post('/account-requests/:id/reject', access.admin, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    const { reason } = parseInput(decisionInput, req.body);
    const { mail } = await rejectAccountRequest(deps, id, req.user!.id, reason, actorOf(req));
    req.log.info({ accountRequestId: id }, 'account request rejected');
    if (wantsJson(req)) return res.json({ success: true, emailed: mail.sent });
    flash(req, 'success', `Request rejected.${mail.sent ? ' The requester was emailed the reason.' : ' The email could not be sent.'}`);
    res.redirect(303, '/account-requests');
  });

  return router;
}
