// Hand-written SQL (allow-listed in eslint.config.js): readiness runs SELECT 1, which proves the
// database answers without depending on any table or model.
import { Router, type Request, type Response } from 'express';
import { Op } from 'sequelize';
import type { RouteContext } from './context.js';
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
export function healthRoutes({ sequelize, models, config }: RouteContext) {
  function liveness(_req: Request, res: Response) {
    res.json({ status: 'ok' });
  }

  async function readiness(_req: Request, res: Response) {
    const checks: Record<string, { ok: boolean; error?: string; runners?: number }> = {};
    try {
      await withTimeout(sequelize.query('SELECT 1'), CHECK_TIMEOUT_MS);
      checks.database = { ok: true };
    } catch (err) {
      checks.database = { ok: false, error: (err as Error).message };
    }
    // Job runners: fresh heartbeats (docs/jobs.md). No runner is reported, but fails readiness only
    // with READY_REQUIRES_RUNNER=true, so a web-only instance is ready.
    try {
      const since = new Date(Date.now() - config.JOB_STALE_SECONDS * 1000);
      const runners = await withTimeout(models.JobRunner.count({ where: { heartbeatAt: { [Op.gte]: since } } }), CHECK_TIMEOUT_MS);
      checks.jobRunner = runners ? { ok: true, runners } : { ok: false, runners, error: `no job runner heartbeat in the last ${config.JOB_STALE_SECONDS} s` };
    } catch (err) {
      checks.jobRunner = { ok: false, error: (err as Error).message };
    }
    const optional = config.READY_REQUIRES_RUNNER ? [] : ['jobRunner'];
    const failing = Object.keys(checks).filter((name) => !checks[name].ok && !optional.includes(name));
    res.status(failing.length ? 503 : 200).json({ status: failing.length ? 'unavailable' : 'ok', failing, checks });
  }

  const router = Router();
  router.get('/health', access.public, liveness);
  router.get('/health/ready', access.public, readiness);
  return router;
}
