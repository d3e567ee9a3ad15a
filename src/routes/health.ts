import { Router } from 'express';
import type { RouteContext } from './index.js';
import { access } from '../policies/access.js';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/**
 * GET /health: the process is up (no dependency checked, for liveness probes).
 * GET /health/ready: every dependency answers; 503 naming the failing check otherwise.
 */
export function healthRoutes({ sequelize }: RouteContext) {
  const router = Router();

  router.get('/health', access.public, (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/health/ready', access.public, async (_req, res) => {
    const checks: Record<string, { ok: boolean; error?: string }> = {};
    try {
      await withTimeout(sequelize.query('SELECT 1'), CHECK_TIMEOUT_MS);
      checks.database = { ok: true };
    } catch (err) {
      checks.database = { ok: false, error: (err as Error).message };
    }
    const failing = Object.keys(checks).filter((name) => !checks[name].ok);
    res.status(failing.length ? 503 : 200).json({ status: failing.length ? 'unavailable' : 'ok', failing, checks });
  });

  return router;
}
