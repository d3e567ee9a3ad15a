import { Router, type Request, type Response } from 'express';
import { KINDS } from '../inventory/kinds.js';
import type { ListScope } from '../inventory/list-query.js';
import { access } from '../policies/access.js';
import { can, scope } from '../policies/authorize.js';
import { loadDashboard } from '../presenters/dashboard.js';
import type { RouteContext } from './context.js';
import { respond } from './respond.js';

/**
 * The dashboard (`GET /`): what the signed-in user can act on, each number a link to the list that
 * shows exactly those rows. Admins also see the approvals waiting for them and the nodes.
 */
export function homeRoutes(ctx: RouteContext) {
  async function dashboard(req: Request, res: Response) {
    const user = req.user!;
    // The same visibility the lists get (src/routes/inventory-list.ts, jobs.ts), so counts and lists agree.
    const records = Object.fromEntries(KINDS.map((kind) => [kind.key, { where: scope(user, kind.key), ownerFilters: can(user, 'seeAllOwners') } satisfies ListScope])) as Record<(typeof KINDS)[number]['key'], ListScope>;
    const view = await loadDashboard(ctx, { records, jobs: scope(user, 'job'), admin: can(user, 'runAdminTask') });
    await respond(req, res, {
      json: { counts: view.counts, links: view.links, expiringDays: view.expiringDays },
      page: { view: 'home/index', locals: { title: 'Dashboard', groups: view.groups } },
    });
  }

  const router = Router();
  router.get('/', access.user, dashboard);
  return router;
}
