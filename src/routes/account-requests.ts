import { Router, type Request, type Response } from 'express';
import { ConflictError, ValidationError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { access } from '../policies/access.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { presentAccountRequest } from '../presenters/user.js';
import { mailNote, mailOnItsWay } from '../notify/mail-note.js';
import { approveAccountRequest, describeOwned, OwnedRecordsError, ownedByName, rejectAccountRequest } from '../services/accountRequests.js';
import { decisionInput } from './account.schema.js';
import { approveFormValues, approveInput } from './account-requests.schema.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { respond } from './respond.js';

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
export function accountRequestRoutes(ctx: RouteContext) {
  const { models } = ctx;
  const load = subjectLoaders(models);

  /** The latest requests; each pending one with what its username already owns and its refused approval, if any. */
  async function review(problems: Record<number, ApprovalProblem> = {}) {
    const rows = await models.AccountRequest.findAll({ order: [['createdAt', 'DESC']], limit: 200 });
    const requests = rows.map(presentAccountRequest);
    const pending = await Promise.all(requests.filter((r) => r.status === 'pending').map(async (r) => {
      const owned = await ownedByName(models, r.username);
      return { ...r, owned: owned.total ? { ...owned, summary: describeOwned(owned) } : null, problem: problems[r.id] ?? null };
    }));
    return { requests, pending };
  }

  const pageLocals = ({ requests, pending }: Awaited<ReturnType<typeof review>>) =>
    ({ title: 'Account requests', pending, decided: requests.filter((r) => r.status !== 'pending') });

  async function list(req: Request, res: Response) {
    const found = await review();
    await respond(req, res, {
      json: { requests: found.requests.map((r) => ({ ...r, owned: found.pending.find((p) => p.id === r.id)?.owned ?? null })) },
      page: { view: 'account/requests', locals: pageLocals(found) },
    });
  }

  async function approve(req: Request, res: Response) {
    const { id } = loaded(res, 'accountRequest');
    let approved;
    try {
      approved = await approveAccountRequest(commandContext(ctx, req), id, parseInput(approveInput, req.body));
    } catch (err) {
      return approvalRefused(req, res, id, err);
    }
    const { user, mail, link, tookOver } = approved;
    req.log.info({ accountRequestId: id, userId: user.id, tookOver: tookOver?.total ?? 0, outboxId: mail.outboxId }, 'account request approved');
    // The link is shown once, here, in every case; `emailed`: a mail with it is queued and SMTP is
    // configured (the outbox page shows what became of it).
    const emailed = mailOnItsWay(mail);
    const linkNote = `Their one-time link to set a password (shown only now): ${link}`;
    const mailText = `${mailNote(mail, 'An email with the link', 'the requester')}${emailed ? '' : ' The link must be handed over.'}`;
    const tookNote = tookOver ? ` It took over ${describeOwned(tookOver)}.` : '';
    await respond(req, res, {
      json: { success: true, userId: user.id, username: user.username, emailed, outboxId: mail.outboxId, link, ...(mail.reason ? { warning: mail.reason } : {}), tookOver: tookOver ? describeOwned(tookOver) : null },
      flash: { type: emailed ? 'success' : 'info', message: `Account ${user.username} created.${tookNote} ${linkNote} ${mailText}` },
      redirect: '/account-requests',
    });
  }

  /**
   * A refused approval. API clients get a taken-over name's records with the 409 (the error handler
   * knows no `owned`); a browser gets the list again with the problem on its request: what the name
   * owns, the take-over box, the other username. Anything else (a request already decided) is an error page.
   */
  async function approvalRefused(req: Request, res: Response, id: number, err: unknown): Promise<void> {
    if (err instanceof OwnedRecordsError && wantsJson(req)) {
      res.status(409).json({ error: err.message, fields: err.fields, owned: err.owned, requestId: req.id });
      return;
    }
    const formProblem = err instanceof OwnedRecordsError || err instanceof ValidationError || (err instanceof ConflictError && err.fields);
    if (!formProblem || wantsJson(req)) throw err;
    const problem = { error: err.message, fields: err.fields ?? {}, username: parseInput(approveFormValues, req.body).username };
    res.status(err.status).render('account/requests', pageLocals(await review({ [id]: problem })));
  }

  async function reject(req: Request, res: Response) {
    const { id } = loaded(res, 'accountRequest');
    const { reason } = parseInput(decisionInput, req.body);
    const { mail } = await rejectAccountRequest(commandContext(ctx, req), id, reason);
    req.log.info({ accountRequestId: id }, 'account request rejected');
    const emailed = mailOnItsWay(mail);
    await respond(req, res, {
      json: { success: true, emailed, outboxId: mail.outboxId, ...(mail.reason ? { warning: mail.reason } : {}) },
      flash: { type: emailed ? 'success' : 'info', message: `Request rejected. ${mailNote(mail, 'An email with the reason', 'the requester')}` },
      redirect: '/account-requests',
    });
  }

  const router = Router();
  router.get('/account-requests', access.admin, list);
  router.post('/account-requests/:id/approve', access.admin, load.accountRequest('change'), approve);
  router.post('/account-requests/:id/reject', access.admin, load.accountRequest('change'), reject);
  return router;
}
