import { Router } from 'express';
import type { RouteContext } from './index.js';
import { access } from '../policies/access.js';

/** The dashboard: what the logged-in user has, at a glance. */
export function homeRoutes({ models }: RouteContext) {
  const router = Router();

  router.get('/', access.user, async (req, res) => {
    const user = req.user!;
    const mine = user.isAdmin ? {} : { username: user.username };
    const [containers, nodes, pendingJobs] = await Promise.all([
      models.Container.count({ where: mine }),
      models.Node.count(),
      models.Job.count({ where: user.isAdmin ? { status: 'pending' } : { status: 'pending', createdBy: user.username } }),
    ]);
    res.render('home/index', { title: 'Dashboard', counts: { containers, nodes, pendingJobs } });
  });

  return router;
}
