import { Router } from 'express';
import type { RouteContext } from './context.js';

/** Stub: filled in by issue 14. */
export function edgeRoutes(_ctx: RouteContext) {
  const router = Router();
  return router;
}
