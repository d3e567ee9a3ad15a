import { Router } from 'express';
import type { RouteContext } from './context.js';

/** The outbox for admins: queued, sent and failed mail, and "retry now" (issue 15). */
export function outboxRoutes(_ctx: RouteContext): Router {
  const router = Router();
  return router;
}
