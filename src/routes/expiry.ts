import { Router } from 'express';
import type { RouteContext } from './context.js';

/** Upcoming expiries, the "extend" links of reminders, the expiry action settings and the notification log (issue 15). */
export function expiryRoutes(_ctx: RouteContext): Router {
  const router = Router();
  return router;
}
