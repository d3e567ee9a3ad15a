import { Router, type Request, type Response } from 'express';
import { Op, type WhereOptions } from 'sequelize';
import type { NotificationLog } from '../../models/index.js';
import type { ExpiryItemType } from '../../models/NotificationLog.js';
import { scanDay } from '../expiry/clock.js';
import { requestExpiryScan } from '../expiry/enqueue-scan.js';
import { extendFromPage, previewExtendLink, redeemExtendLink, type Extension } from '../expiry/extend.js';
import { expiryRules } from '../expiry/policy.js';
import { ACTIONS_BY_KIND, setExpiryRule } from '../expiry/policy-settings.js';
import { KINDS } from '../inventory/kinds.js';
import { AppError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { access } from '../policies/access.js';
import { can } from '../policies/authorize.js';
import { presentExpiryItem, presentExpiryRule, presentNotification, type ExpiryRow } from '../presenters/expiry.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { expiryPolicySchema, extendItemSchema, extendTokenSchema, notificationListSchema } from './expiry.schema.js';
import { formHandler, respond, type FormFailure } from './respond.js';

const ITEM_LIMIT = 1000;
const LOG_PAGE_SIZE = 50;

/** Link refusals a visitor is told about on the link's own page: invalid (404), changed or at the maximum (409), used or expired (410). */
const LINK_REFUSALS = [404, 409, 410];

/** Upcoming expiries, the "extend" links of reminders, the expiry action settings and the notification log (issue 15). */
export function expiryRoutes(ctx: RouteContext): Router {
  const { models, config } = ctx;

  /** The signed-in user's containers and VMs that have an expiry date, soonest first. */
  async function ownItems(username: string, today: string) {
    const rules = await expiryRules(models);
    const rows: ExpiryRow[] = [];
    for (const kind of KINDS) {
      const found = await kind.model(models).findAll({
        where: { username, expiresAt: { [Op.ne]: null } },
        attributes: ['id', kind.nameField, 'status', 'expiresAt', ...(kind.key === 'container' ? ['managed'] : [])],
        order: [['expiresAt', 'ASC'], ['id', 'ASC']],
        limit: ITEM_LIMIT,
      });
      for (const r of found) {
        rows.push({ itemType: kind.key, id: r.get('id') as number, label: String(r.get(kind.nameField)), status: String(r.get('status')), expiresAt: r.get('expiresAt') as string, managed: r.get('managed') === true || r.get('managed') === 1 });
      }
    }
    rows.sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.label.localeCompare(b.label));
    return rows.map((r) => presentExpiryItem(r, rules[r.itemType], today, config));
  }

  async function listPage(req: Request, status = 200, error: string | null = null) {
    const today = scanDay(new Date(), config.TZ);
    return {
      view: 'expiry/index',
      status,
      locals: { title: 'Expiries', items: await ownItems(req.user!.username, today), today, extendDays: config.EXPIRY_EXTEND_DAYS, maxDays: config.CONTAINER_EXPIRY_MAX_DAYS, error },
    };
  }

  /** GET /expiry: what expires when, what then happens, and an Extend button per item. */
  async function list(req: Request, res: Response) {
    await respond(req, res, {
      json: async () => {
        const today = scanDay(new Date(), config.TZ);
        return { today, items: await ownItems(req.user!.username, today) };
      },
      page: () => listPage(req),
    });
  }

  const extended = (e: Extension) => ({ itemType: e.itemType, id: e.itemId, label: e.label, from: e.from, to: e.to, maximum: e.maximum });

  /** POST /expiry/extend: the owner's (or an admin's) "Extend" from the Expiries page. */
  async function extendItem(req: Request, res: Response) {
    const input = parseInput(extendItemSchema, req.body);
    const mayChange = (owner: string | null) => can(req.user, 'change', { kind: input.itemType, owner: { username: owner } });
    const result = await extendFromPage(commandContext(ctx, req), input, mayChange, new Date());
    await respond(req, res, { json: extended(result), flash: { type: 'success', message: `${result.label} now expires on ${result.to} (was ${result.from}).` }, redirect: '/expiry' });
  }

  async function rerenderList(req: Request, res: Response, failure: FormFailure) {
    const page = await listPage(req, failure.status, failure.error);
    res.status(page.status).render(page.view, page.locals);
  }

  /**
   * A link handler whose refusals (forged, another user's, used, expired, changed since, at the
   * maximum) are shown on the link's own page at their status, for browsers; API clients get
   * `{error}` from the error handler.
   */
  const linkPage = (handler: (req: Request, res: Response) => Promise<void>) => {
    const named = async (req: Request, res: Response) => {
      try {
        await handler(req, res);
      } catch (err) {
        if (!(err instanceof AppError) || !LINK_REFUSALS.includes(err.status) || wantsJson(req)) throw err;
        res.status(err.status).render('expiry/link', { title: 'Extend link', state: 'refused', message: err.message });
      }
    };
    // Keep the handler's name on the route (logs, the route table).
    return Object.defineProperty(named, 'name', { value: handler.name });
  };

  /** GET /expiry/link?token=…: says what the link will do, with one button. Never extends (mail scanners prefetch links). */
  async function confirmLink(req: Request, res: Response) {
    const { token } = parseInput(extendTokenSchema, req.query);
    const preview = await previewExtendLink(commandContext(ctx, req), token, new Date());
    await respond(req, res, {
      json: preview,
      page: { view: 'expiry/link', locals: { title: 'Extend link', state: 'confirm', token, preview, message: null } },
    });
  }

  /** POST /expiry/link (the token in the form, or in the query as in the link): extends once, and shows the new date. */
  async function redeemLink(req: Request, res: Response) {
    const { token } = parseInput(extendTokenSchema, { token: (req.body as { token?: unknown } | undefined)?.token ?? req.query.token });
    const result = await redeemExtendLink(commandContext(ctx, req), token, new Date());
    await respond(req, res, { json: extended(result), page: { view: 'expiry/link', locals: { title: 'Extended', state: 'done', result, message: null } } });
  }

  /* ------------------------------------------------------------------ admin */

  async function settingsPage(status = 200, failure: FormFailure | null = null) {
    const rules = await expiryRules(models);
    const kinds = (['container', 'vm'] as const).map((kind) => {
      const shown = presentExpiryRule(rules[kind], ACTIONS_BY_KIND[kind]);
      // A refused form comes back with what was typed, on that kind's form only.
      if (failure && failure.values.kind === kind) return { ...shown, action: String(failure.values.action ?? shown.action), graceDays: String(failure.values.graceDays ?? shown.graceDays) };
      return shown;
    });
    return { view: 'expiry/settings', status, locals: { title: 'Expiry settings', kinds, error: failure?.error ?? null, fields: failure?.fields ?? {}, failedKind: failure?.values.kind ?? null } };
  }

  /** GET /admin/expiry: the expiry action per kind. */
  async function settings(req: Request, res: Response) {
    await respond(req, res, { json: async () => ({ rules: Object.values(await expiryRules(models)) }), page: () => settingsPage() });
  }

  /** POST /admin/expiry: sets one kind's expiry action. */
  async function updateSettings(req: Request, res: Response) {
    const input = parseInput(expiryPolicySchema, req.body);
    const rule = await setExpiryRule(commandContext(ctx, req), input);
    const said = rule.action === 'none' ? 'reminders only' : rule.action === 'stop' ? 'stopped the day after expiry' : `stopped the day after expiry, deleted ${rule.graceDays} days later`;
    await respond(req, res, { json: { rule }, flash: { type: 'success', message: `Expired ${rule.kind === 'vm' ? 'VMs' : 'containers'}: ${said}.` }, redirect: '/admin/expiry' });
  }

  async function rerenderSettings(_req: Request, res: Response, failure: FormFailure) {
    const page = await settingsPage(failure.status, failure);
    res.status(page.status).render(page.view, page.locals);
  }

  /** GET /admin/notifications: every reminder and expiry-action notice, newest first, filtered by owner or item. */
  async function notifications(req: Request, res: Response) {
    const query = parseInput(notificationListSchema, req.query);
    const where: WhereOptions<NotificationLog> = {
      ...(query.user ? { username: query.user } : {}),
      ...(query.itemType ? { itemType: query.itemType as ExpiryItemType } : {}),
      ...(query.itemId ? { itemId: query.itemId } : {}),
    };
    const { rows, count } = await models.NotificationLog.findAndCountAll({ where, order: [['id', 'DESC']], limit: LOG_PAGE_SIZE, offset: (query.page - 1) * LOG_PAGE_SIZE });
    const pages = Math.max(1, Math.ceil(count / LOG_PAGE_SIZE));
    const filters = { user: query.user ?? '', itemType: query.itemType ?? '', itemId: query.itemId ? String(query.itemId) : '' };
    const pageHref = (page: number) => `/admin/notifications?${new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), page: String(page) }).toString()}`;
    await respond(req, res, {
      json: { notifications: rows.map(presentNotification), total: count, page: query.page, pageSize: LOG_PAGE_SIZE },
      page: {
        view: 'expiry/notifications',
        locals: {
          title: 'Notifications',
          notifications: rows.map(presentNotification),
          total: count,
          page: query.page,
          pages,
          filters,
          prevHref: query.page > 1 ? pageHref(query.page - 1) : null,
          nextHref: query.page < pages ? pageHref(query.page + 1) : null,
        },
      },
    });
  }

  /** POST /admin/expiry/scan: today's scan now, as a job (what was already sent is skipped). */
  async function scanNow(req: Request, res: Response) {
    const job = await requestExpiryScan(commandContext(ctx, req));
    await respond(req, res, { status: 201, location: `/jobs/${job.id}`, json: { id: job.id, status: job.status }, redirect: `/status/${job.id}` });
  }

  const router = Router();
  router.get('/expiry', access.user, list);
  router.post('/expiry/extend', access.user, formHandler(extendItem, rerenderList, [404]));
  // The token travels as a query parameter (src/expiry/extend-link.ts extendPath), so the request
  // log blanks it like every secret-looking parameter, also inside a login's `next=`.
  router.get('/expiry/link', access.user, linkPage(confirmLink));
  router.post('/expiry/link', access.user, linkPage(redeemLink));
  router.get('/admin/expiry', access.admin, settings);
  router.post('/admin/expiry', access.admin, formHandler(updateSettings, rerenderSettings));
  router.get('/admin/notifications', access.admin, notifications);
  router.post('/admin/expiry/scan', access.admin, scanNow);
  return router;
}
