import { Router, type Request, type Response } from 'express';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { submitAccountRequest } from '../services/accountRequests.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { registerInput } from './register.schema.js';
import { formHandler, respond, type FormFailure } from './respond.js';

const SUBMITTED = 'Thank you: your request was sent to the Berth administrators. You will get an email when they decide.';

/** Self-service account requests: GET /register shows the form, POST /register stores it and emails the admins. */
export function registerRoutes(ctx: RouteContext) {
  const { publicLimit } = ctx;

  function renderForm(res: Response, status: number, submitted: Record<string, unknown> = {}, error?: string, fields?: Record<string, string>) {
    const str = (k: string) => (typeof submitted[k] === 'string' ? (submitted[k] as string) : '');
    res.status(status).render('register/form', {
      title: 'Request an account',
      error,
      fields: fields ?? {},
      values: { name: str('name'), email: str('email'), username: str('username'), reason: str('reason'), endDate: str('endDate') },
    });
  }

  function newForm(req: Request, res: Response) {
    if (req.user) return res.redirect(303, '/');
    renderForm(res, 200);
  }

  async function create(req: Request, res: Response) {
    const input = parseInput(registerInput, req.body);
    const { request } = await submitAccountRequest(commandContext(ctx, req), input);
    req.log.info({ accountRequestId: request.id, username: input.username }, 'account requested');
    await respond(req, res, {
      status: 201,
      json: { success: true, message: SUBMITTED },
      page: { view: 'register/submitted', locals: { title: 'Request sent', message: SUBMITTED } },
    });
  }

  function rerenderForm(_req: Request, res: Response, failure: FormFailure) {
    renderForm(res, failure.status, failure.values, failure.error, failure.fields);
  }

  const router = Router();
  router.get('/register', access.public, publicLimit, newForm);
  router.post('/register', access.public, publicLimit, formHandler(create, rerenderForm));
  return router;
}
