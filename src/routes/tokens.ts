import { Router, type Request, type Response } from 'express';
import type { Transaction } from 'sequelize';
import type { ApiToken } from '../../models/index.js';
import { actorOf, changedFields, type Changes } from '../audit/index.js';
import { AppError } from '../lib/errors.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { flash } from '../middlewares/flash.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { sessionOnly } from '../policies/tokens.js';
import { ownedOrNotFound } from '../policies/users.js';
import { presentApiToken } from '../presenters/user.js';
import { createApiToken } from '../services/apiTokens.js';
import { idParam } from '../lib/validators.js';
import type { RouteContext } from './index.js';
import { createTokenInput } from './tokens.schema.js';

/** A user's own API tokens: list, create (shown once), revoke (admins: any token). Another user's token is a 404. */
export function tokenRoutes({ models, sequelize, auditor, config }: RouteContext) {
  const router = Router();

  /** A token.* event: name, scope, expiry and owner, never the token or its hash. */
  const audit = (req: Request, row: ApiToken, action: string, changes: Changes, transaction: Transaction) =>
    auditor.record(actorOf(req), { action, objectType: 'token', objectId: row.id, objectLabel: row.name, changes }, transaction);

  async function renderList(req: Request, res: Response, status: number, extra: Record<string, unknown> = {}) {
    const rows = await models.ApiToken.findAll({ where: { userId: req.user!.id }, order: [['createdAt', 'DESC']] });
    res.status(status).render('tokens/index', { title: 'API tokens', tokens: rows.map((t) => presentApiToken(t)), fields: {}, values: {}, created: null, error: undefined, ...extra });
  }

  router.get('/tokens', access.user, sessionOnly, async (req, res) => {
    if (wantsJson(req)) {
      const rows = await models.ApiToken.findAll({ where: { userId: req.user!.id }, order: [['createdAt', 'DESC']] });
      return res.json({ tokens: rows.map((t) => presentApiToken(t)) });
    }
    await renderList(req, res, 200);
  });

  router.post('/tokens', access.user, sessionOnly, async (req, res) => {
    let input;
    try {
      input = parseInput(createTokenInput, req.body);
    } catch (err) {
      if (err instanceof AppError && !wantsJson(req)) return renderList(req, res, err.status, { error: err.message, fields: err.fields ?? {}, values: req.body ?? {} });
      throw err;
    }
    const { token, row } = await sequelize.transaction(async (transaction) => {
      const created = await createApiToken(models, config, req.user!.id, input, transaction);
      const { row } = created;
      const changes = changedFields(null, row.get(), ['userId', 'name', 'scope', 'expiresAt']);
      await audit(req, row, 'token.create', changes, transaction);
      return created;
    });
    req.log.info({ apiTokenId: row.id }, 'api token created');
    res.setHeader('Cache-Control', 'no-store');
    if (wantsJson(req)) return res.status(201).json({ ...presentApiToken(row), token });
    await renderList(req, res, 201, { created: { name: row.name, token } });
  });

  router.post('/tokens/:id/revoke', access.user, sessionOnly, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    // Admins may revoke anyone's token (incident response); another user gets 404.
    const token = ownedOrNotFound(req.user!, await models.ApiToken.findByPk(id), { adminMay: true });
    await sequelize.transaction(async (transaction) => {
      const before = token.revokedAt;
      if (!before) await token.update({ revokedAt: new Date() }, { transaction });
      await audit(req, token, 'token.revoke', changedFields({ revokedAt: before }, { revokedAt: token.revokedAt }, ['revokedAt']), transaction);
    });
    req.log.info({ apiTokenId: token.id }, 'api token revoked');
    if (wantsJson(req)) return res.json({ success: true });
    flash(req, 'success', `Token "${token.name}" revoked.`);
    res.redirect(303, '/tokens');
  });

  return router;
}
