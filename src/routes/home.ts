import { Router, type Request, type Response } from 'express';
import type { RouteContext } from './context.js';
import { access } from '../policies/access.js';
import { scope } from '../policies/authorize.js';

/** The dashboard: what the logged-in user has, at a glance. */
export function homeRoutes({ models }: RouteContext) {
  async function dashboard(req: Request, res: Response) {
    const [containers, nodes, pendingJobs] = await Promise.all([
      models.Container.count({ where: scope(req.user!, 'container') }),
      models.Node.count(),
      models.Job.count({ where: { ...scope(req.user!, 'job'), status: 'pending' } }),
    ]);
    res.render('home/index', { title: 'Dashboard', counts: { containers, nodes, pendingJobs } });
  }

  const router = Router();
  router.get('/', access.user, dashboard);
  return router;
}
