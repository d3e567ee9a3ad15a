import { Router, type Request, type Response } from 'express';
import { actorOf } from '../audit/index.js';
import { AppError } from '../lib/errors.js';
import { mailerFor } from '../lib/mail/index.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { submitAccountRequest } from '../services/accountRequests.js';
import type { RouteContext } from './index.js';
import { registerInput } from './register.schema.js';

const SUBMITTED = 'Thank you: your request was sent to the Berth administrators. You will get an email when they decide.';

/** Self-service account requests: GET /register shows the form, POST /register stores it and emails the admins. */
export function registerRoutes({ models, sequelize, config, logger, auditor, publicLimit }: RouteContext) {
  const router = Router();
  const deps = { models, sequelize, config, auditor, mailer: mailerFor(config, logger) };

  function renderForm(req: Request, res: Response, status: number, error?: string, fields?: Record<string, string>) {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
    res.status(status).render('register/form', {
      title: 'Request an account',
      error,
      fields: fields ?? {},
      values: { name: str('name'), email: str('email'), username: str('username'), reason: str('reason'), endDate: str('endDate') },
    });
  }

  router.get('/register', access.public, publicLimit, (req, res) => {
    if (req.user) return res.redirect(303, '/');
    renderForm(req, res, 200);
  });

  router.post('/register', access.public, publicLimit, async (req, res) => {
    try {
      const input = parseInput(registerInput, req.body);
      const { request } = await submitAccountRequest(deps, input, actorOf(req));
      req.log.info({ accountRequestId: request.id, username: input.username }, 'account requested');
      if (wantsJson(req)) return res.status(201).json({ success: true, message: SUBMITTED });
      res.status(201).render('register/submitted', { title: 'Request sent', message: SUBMITTED });
    } catch (err) {
      if (err instanceof AppError && err.status < 500 && !wantsJson(req)) return renderForm(req, res, err.status, err.message, err.fields);
      throw err;
    }
  });

  return router;
}
