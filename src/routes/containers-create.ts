import crypto from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { ValidationError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { can } from '../policies/authorize.js';
import { nodeWithMostFreeMemory } from '../provisioning/choose-node.js';
import { offeredTemplates } from '../provisioning/offer.js';
import { daysFromToday } from '../provisioning/expiry.js';
import { requestContainer } from '../provisioning/request.js';
import { presentCreateForm } from '../presenters/container-create.js';
import { commandContext } from './command.js';
import { containerCreateSchema, idempotencyKey } from './containers-create.schema.js';
import type { RouteContext } from './context.js';
import { formHandler, respond, type FormFailure } from './respond.js';

/**
 * The create form and POST /containers?init=true (a new container through a container.create job).
 * POST /containers without `init` registers an existing container (src/routes/inventory-records.ts),
 * which calls {@link provisionHandler} when `init` is set: one path, two flows, as the seed has it.
 */
export function containerCreateRoutes(ctx: RouteContext) {
  const router = Router();

  async function newForm(req: Request, res: Response) {
    await renderForm(ctx, req, res, 200, { values: {} });
  }

  router.get('/containers/new', access.user, newForm);
  return router;
}

/** The form, with what the admin offers (templates per node, nodes), the user's defaults and any messages. */
async function renderForm(ctx: RouteContext, req: Request, res: Response, status: number, view: { values: Record<string, unknown>; error?: string; fields?: Record<string, string> }) {
  const page = presentCreateForm(await offeredTemplates(ctx.models), ctx.config, {
    isAdmin: can(req.user, 'setOwner'),
    values: view.values,
    defaultExpiry: daysFromToday(ctx.config.CONTAINER_EXPIRY_DEFAULT_DAYS),
    maxExpiry: daysFromToday(ctx.config.CONTAINER_EXPIRY_MAX_DAYS),
  });
  res.status(status).render('containers/new', { title: 'New container', ...page, error: view.error, fields: view.fields ?? {} });
}

/** SHA-256 of what makes two requests "the same" for an Idempotency-Key: path and body. */
function requestHash(req: Request): string {
  return crypto.createHash('sha256').update(`${req.method} ${req.path}\n${JSON.stringify(req.body ?? {})}`).digest('hex');
}

/** The handler of POST /containers?init=true (mounted by the records router on the seed's path). */
export function provisionHandler(ctx: RouteContext) {
  const schema = containerCreateSchema({ cores: ctx.config.CONTAINER_MAX_CORES, memoryMb: ctx.config.CONTAINER_MAX_MEMORY_MB, diskGb: ctx.config.CONTAINER_MAX_DISK_GB });

  async function provision(req: Request, res: Response) {
    const input = parseInput(schema, req.body);
    const rawKey = req.get('Idempotency-Key');
    const parsedKey = rawKey === undefined ? undefined : idempotencyKey.safeParse(rawKey);
    if (parsedKey && !parsedKey.success) throw new ValidationError(parsedKey.error.issues[0].message, { 'Idempotency-Key': parsedKey.error.issues[0].message });
    const isAdmin = can(req.user, 'setOwner');
    const cmd = commandContext(ctx, req);
    const answer = await requestContainer(cmd, {
      ...input,
      // Absent (the seed's JSON body): the default expiry; blank in the form: none (admins only).
      expiresAt: input.expiresAt === undefined ? (isAdmin ? null : daysFromToday(ctx.config.CONTAINER_EXPIRY_DEFAULT_DAYS)) : input.expiresAt,
    }, {
      isAdmin,
      chooseNode: (candidates) => nodeWithMostFreeMemory(cmd, candidates),
      idempotency: parsedKey?.success ? { key: parsedKey.data, hash: requestHash(req) } : undefined,
    });
    const pending = answer.state === 'pending';
    await respond(req, res, {
      status: 202,
      location: answer.statusUrl ?? `/containers/${answer.containerId}`,
      json: {
        jobId: answer.jobId,
        containerId: answer.containerId,
        statusUrl: answer.statusUrl,
        state: answer.state,
        ...(pending ? { message: 'Over your quota: the request waits for an administrator.' } : {}),
      },
      flash: pending
        ? { type: 'info', message: `${input.hostname} is over your quota and waits for an administrator's approval.` }
        : answer.repeated ? { type: 'info', message: `${input.hostname} was already requested; this is its job.` } : undefined,
      redirect: answer.statusUrl ?? `/containers/${answer.containerId}`,
    });
  }

  const rerender = (req: Request, res: Response, failure: FormFailure) =>
    renderForm(ctx, req, res, failure.status, { values: failure.values, error: failure.error, fields: failure.fields });
  // 502: "automatic" could not ask any node for its free memory; the form says so and keeps what was typed.
  return formHandler(provision, rerender, [502]);
}
