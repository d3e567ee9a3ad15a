import { Router, type Request, type Response } from 'express';
import { actorOf } from '../audit/index.js';
import { ConflictError, ValidationError } from '../lib/errors.js';
import { mailerFor } from '../lib/mail/index.js';
import { flash } from '../middlewares/flash.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { presentAccountRequest } from '../presenters/user.js';
import { approveAccountRequest, describeOwned, OwnedRecordsError, ownedByName, rejectAccountRequest } from '../services/accountRequests.js';
import { idParam } from '../lib/validators.js';
import { decisionInput } from './account.schema.js';
import { approveInput } from './account-requests.schema.js';
import type { RouteContext } from './index.js';

/** A refused approval shown again on its request: the message, the field errors and what was typed. */
interface ApprovalProblem {
  error: string;
  fields: Record<string, string>;
  username: string;
}

/**
 * Admins review account requests: approve (account created, requester emailed) or reject (with a
 * reason). A requested username that already owns records is shown with what it owns, and is
 * approved only with an explicit take-over or under another username.
 */
export function accountRequestRoutes({ models, sequelize, config, logger, auditor }: RouteContext) {
  const router = Router();
  const deps = { models, sequelize, config, auditor, mailer: mailerFor(config, logger) };

  async function renderList(req: Request, res: Response, status: number, problems: Record<number, ApprovalProblem> = {}) {
    const rows = await models.AccountRequest.findAll({ order: [['createdAt', 'DESC']], limit: 200 });
    const requests = rows.map(presentAccountRequest);
    const pending = await Promise.all(requests.filter((r) => r.status === 'pending').map(async (r) => {
      const owned = await ownedByName(models, r.username);
      return { ...r, owned: owned.total ? { ...owned, summary: describeOwned(owned) } : null, problem: problems[r.id] ?? null };
    }));
    if (wantsJson(req)) return res.status(status).json({ requests: requests.map((r) => ({ ...r, owned: pending.find((p) => p.id === r.id)?.owned ?? null })) });
    res.status(status).render('account/requests', {
      title: 'Account requests',
      pending,
      decided: requests.filter((r) => r.status !== 'pending'),
    });
  }

  router.get('/account-requests', access.admin, async (req, res) => {
    await renderList(req, res, 200);
  });

  router.post('/account-requests/:id/approve', access.admin, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    let approved;
    try {
      approved = await approveAccountRequest(deps, id, req.user!.id, actorOf(req), parseInput(approveInput, req.body));
    } catch (err) {
      if (err instanceof OwnedRecordsError && wantsJson(req)) {
        return res.status(409).json({ error: err.message, fields: err.fields, owned: err.owned, requestId: req.id });
      }
      // A form comes back on its request: what the name owns, the take-over box, the other username.
      const formProblem = err instanceof OwnedRecordsError || err instanceof ValidationError || (err instanceof ConflictError && err.fields);
      if (!formProblem || wantsJson(req)) throw err;
      const body = (req.body ?? {}) as { username?: unknown };
      return renderList(req, res, err.status, { [id]: { error: err.message, fields: err.fields ?? {}, username: typeof body.username === 'string' ? body.username : '' } });
    }
    const { user, mail, tookOver } = approved;
    req.log.info({ accountRequestId: id, userId: user.id, tookOver: tookOver?.total ?? 0 }, 'account request approved');
    const mailNote = mail.sent ? 'The requester was emailed a link to set a password.' : `The email could not be sent (${mail.reason}): reset the password from the user page to get a new link.`;
    const tookNote = tookOver ? ` It took over ${describeOwned(tookOver)}.` : '';
    if (wantsJson(req)) return res.json({ success: true, userId: user.id, username: user.username, emailed: mail.sent, tookOver: tookOver ? describeOwned(tookOver) : null });
    flash(req, mail.sent ? 'success' : 'error', `Account ${user.username} created.${tookNote} ${mailNote}`);
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
