import { Router, type Request, type Response } from 'express';
import { ValidationError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { access, sessionOnly } from '../policies/access.js';
import { can, scope } from '../policies/authorize.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { presentApiToken } from '../presenters/user.js';
import { createApiToken, revokeApiToken } from '../services/apiTokens.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { formHandler, respond, type FormFailure } from './respond.js';
import { createTokenInput } from './tokens.schema.js';

/** A user's own API tokens: list, create (shown once), revoke (admins: any token). Another user's token is a 404. */
export function tokenRoutes(ctx: RouteContext) {
  const { models } = ctx;
  const load = subjectLoaders(models);

  const ownTokens = async (req: Request) =>
    (await models.ApiToken.findAll({ where: scope(req.user!, 'apiToken'), order: [['createdAt', 'DESC']] })).map((t) => presentApiToken(t));

  /** The tokens page's locals: the list, the create form (with a failure's messages) or the token just created. */
  const pageLocals = (tokens: unknown[], extra: Record<string, unknown> = {}) =>
    ({ title: 'API tokens', tokens, fields: {}, values: {}, created: null, error: undefined, ...extra });

  async function list(req: Request, res: Response) {
    const tokens = await ownTokens(req);
    await respond(req, res, { json: { tokens }, page: { view: 'tokens/index', locals: pageLocals(tokens) } });
  }

  async function create(req: Request, res: Response) {
    const input = parseInput(createTokenInput, req.body);
    // An edge token pulls the config that names every container's address: an administrator's
    // decision, and the edge serves only edge tokens whose owner is an administrator.
    if (input.scope === 'edge' && !can(req.user, 'createEdgeToken')) {
      throw new ValidationError('Only administrators may create edge tokens.', { scope: 'Only administrators may create edge tokens.' });
    }
    const { token, row } = await createApiToken(commandContext(ctx, req), { ...input, userId: req.user!.id });
    req.log.info({ apiTokenId: row.id }, 'api token created');
    res.setHeader('Cache-Control', 'no-store');
    await respond(req, res, {
      status: 201,
      json: { ...presentApiToken(row), token },
      page: async () => ({ view: 'tokens/index', locals: pageLocals(await ownTokens(req), { created: { name: row.name, token } }) }),
    });
  }

  async function rerenderForm(req: Request, res: Response, failure: FormFailure) {
    res.status(failure.status).render('tokens/index', pageLocals(await ownTokens(req), { error: failure.error, fields: failure.fields, values: failure.values }));
  }

  async function revoke(req: Request, res: Response) {
    const token = loaded(res, 'apiToken');
    await revokeApiToken(commandContext(ctx, req), token);
    req.log.info({ apiTokenId: token.id }, 'api token revoked');
    await respond(req, res, { json: { success: true }, flash: { type: 'success', message: `Token "${token.name}" revoked.` }, redirect: '/tokens' });
  }

  const router = Router();
  router.get('/tokens', access.user, sessionOnly, list);
  router.post('/tokens', access.user, sessionOnly, formHandler(create, rerenderForm));
  // Admins may revoke anyone's token (incident response); another user gets 404.
  router.post('/tokens/:id/revoke', access.user, sessionOnly, load.apiToken('change'), revoke);
  return router;
}
