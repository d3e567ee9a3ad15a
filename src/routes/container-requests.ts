import { Router, type Request, type Response } from 'express';
import { Op, type WhereOptions } from 'sequelize';
import type { ContainerRequest } from '../../models/index.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { presentContainerRequest, type ContainerRequestWithContainer } from '../presenters/container-request.js';
import { mailNote, mailOnItsWay } from '../notify/mail-note.js';
import { approveContainerRequest, rejectContainerRequest } from '../provisioning/request.js';
import { commandContext } from './command.js';
import { rejectFormValues, rejectRequestInput } from './container-requests.schema.js';
import type { RouteContext } from './context.js';
import { formHandler, respond, type FormFailure } from './respond.js';

/** How many decided requests the queue shows under the pending ones. */
const RECENTLY_DECIDED = 50;

/** A refused decision shown again on the queue: the message, the field errors and the reason typed. */
interface DecisionProblem {
  requestId: number;
  error: string;
  fields: Record<string, string>;
  reason: string;
}

/**
 * The admin queue of container requests over quota (src/provisioning/request.ts makes them):
 * approve (the container.create job starts, owned by the requester) or reject (the reservation is
 * released and the requester is mailed the reason).
 */
export function containerRequestRoutes(ctx: RouteContext) {
  const { models } = ctx;
  const load = subjectLoaders(models);

  const withContainer = [{ model: models.Container, as: 'container', include: [{ model: models.Node, as: 'node', attributes: ['id', 'name'] }] }];

  async function findRequests(where: WhereOptions<ContainerRequest>, order: 'createdAt' | 'updatedAt', limit?: number) {
    const rows = await models.ContainerRequest.findAll({ where, include: withContainer, order: [[order, 'DESC'], ['id', 'DESC']], limit });
    return (rows as ContainerRequestWithContainer[]).map(presentContainerRequest);
  }

  /** Every pending request, newest first, and the latest an admin decided (approved or rejected). */
  async function queue() {
    const [pending, decided] = await Promise.all([
      findRequests({ status: 'pending' }, 'createdAt'),
      // A request within quota was never decided by anyone: decidedBy stays null.
      findRequests({ decidedBy: { [Op.ne]: null } }, 'updatedAt', RECENTLY_DECIDED),
    ]);
    return { pending, decided };
  }

  const pageLocals = (found: Awaited<ReturnType<typeof queue>>, problem: DecisionProblem | null = null) =>
    ({ title: 'Container requests', ...found, problem });

  async function list(req: Request, res: Response) {
    const found = await queue();
    await respond(req, res, { json: found, page: { view: 'container-requests/index', locals: pageLocals(found) } });
  }

  async function approve(req: Request, res: Response) {
    const request = loaded(res, 'containerRequest');
    const answer = await approveContainerRequest(commandContext(ctx, req), request.id);
    const statusUrl = `/status/${answer.jobId}`;
    req.log.info({ containerRequestId: request.id, jobId: answer.jobId }, 'container request approved');
    await respond(req, res, {
      json: { jobId: answer.jobId, statusUrl, containerId: answer.containerId, requestId: answer.requestId },
      flash: { type: 'success', message: `Approved: ${request.hostname} is being created for ${request.username}.` },
      redirect: statusUrl,
    });
  }

  async function reject(req: Request, res: Response) {
    const request = loaded(res, 'containerRequest');
    const { reason } = parseInput(rejectRequestInput, req.body);
    const { mail } = await rejectContainerRequest(commandContext(ctx, req), request.id, reason);
    const emailed = mailOnItsWay(mail);
    req.log.info({ containerRequestId: request.id, emailed, outboxId: mail.outboxId }, 'container request rejected');
    await respond(req, res, {
      json: { success: true, emailed, outboxId: mail.outboxId, ...(mail.reason ? { warning: mail.reason } : {}) },
      flash: { type: emailed ? 'success' : 'info', message: `Request for ${request.hostname} rejected. ${mailNote(mail, 'An email with the reason', 'the requester')}` },
      redirect: '/containers/requests',
    });
  }

  /** A refused decision (reason missing, already decided): the queue again, the message on its request or at the top. */
  async function showProblem(req: Request, res: Response, failure: FormFailure) {
    const problem = { requestId: loaded(res, 'containerRequest').id, error: failure.error, fields: failure.fields, reason: parseInput(rejectFormValues, req.body ?? {}).reason };
    res.status(failure.status).render('container-requests/index', pageLocals(await queue(), problem));
  }

  const router = Router();
  router.get('/containers/requests', access.admin, list);
  router.post('/containers/requests/:requestId/approve', access.admin, load.containerRequest('change', 'requestId'), formHandler(approve, showProblem));
  router.post('/containers/requests/:requestId/reject', access.admin, load.containerRequest('change', 'requestId'), formHandler(reject, showProblem));
  return router;
}
