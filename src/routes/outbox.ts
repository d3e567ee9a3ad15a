import { Router, type Request, type Response } from 'express';
import { OUTBOX_STATUSES } from '../../models/OutboxMessage.js';
import { listOutbox, retryOutboxMessage } from '../notify/outbox-admin.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { OUTBOX_STATUS_LABELS, presentOutboxMessage } from '../presenters/outbox.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { outboxListSchema } from './outbox.schema.js';
import { respond } from './respond.js';

const PAGE_SIZE = 50;

/** The outbox for admins: queued, sent and failed mail, and "retry now" (issue 15). */
export function outboxRoutes(ctx: RouteContext): Router {
  const { models } = ctx;
  const load = subjectLoaders(models);

  /** GET /admin/mail: newest first, one status or all, with the count of each status. */
  async function list(req: Request, res: Response) {
    const query = parseInput(outboxListSchema, req.query);
    const { messages, total, counts } = await listOutbox(models, { status: query.status, page: query.page, pageSize: PAGE_SIZE });
    const presented = messages.map(presentOutboxMessage);
    await respond(req, res, {
      json: { messages: presented, total, counts, page: query.page, pageSize: PAGE_SIZE },
      page: {
        view: 'outbox/index',
        locals: {
          title: 'Mail',
          messages: presented,
          total,
          counts,
          page: query.page,
          pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
          status: query.status ?? '',
          statuses: OUTBOX_STATUSES.map((s) => ({ value: s, ...OUTBOX_STATUS_LABELS[s] })),
        },
      },
    });
  }

  /** GET /admin/mail/:messageId: one message's envelope and delivery history (never its body). */
  async function show(req: Request, res: Response) {
    const message = presentOutboxMessage(loaded(res, 'outboxMessage'));
    await respond(req, res, { json: { message }, page: { view: 'outbox/show', locals: { title: `Mail ${message.id}`, message } } });
  }

  /** POST /admin/mail/:messageId/retry: back to queued, due now (409 when sent or being sent). */
  async function retry(req: Request, res: Response) {
    const row = await retryOutboxMessage(commandContext(ctx, req), loaded(res, 'outboxMessage').id);
    await respond(req, res, {
      json: { message: presentOutboxMessage(row) },
      flash: { type: 'success', message: `Message ${row.id} is queued again: it is sent on the next delivery pass.` },
      redirect: `/admin/mail/${row.id}`,
    });
  }

  const router = Router();
  router.get('/admin/mail', access.admin, list);
  router.get('/admin/mail/:messageId', access.admin, load.outboxMessage('view', 'messageId'), show);
  router.post('/admin/mail/:messageId/retry', access.admin, load.outboxMessage('change', 'messageId'), retry);
  return router;
}
