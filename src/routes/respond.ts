import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../lib/errors.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { flash, type FlashType } from '../middlewares/flash.js';

/**
 * Every route answers two audiences from one description: API clients (JSON) and browsers (a page,
 * or a 303 redirect with a flash message). Handlers say what happened; this file decides how it is
 * said, so "JSON or page" is written once.
 */
export interface Answer {
  /** The JSON body (or a function computing it, when only API clients need the work). */
  json: unknown | (() => unknown | Promise<unknown>);
  /** Status for both audiences' first answer (JSON, or a rendered page); default 200. */
  status?: number;
  /** `Location` of a created object, for API clients. */
  location?: string;
  /** Browsers: go here (303) after a change... */
  redirect?: string;
  /** ...with this message on the next page. */
  flash?: { type: FlashType; message: string };
  /** Browsers: or see this page (a function when only browsers need the work). */
  page?: PageAnswer | (() => PageAnswer | Promise<PageAnswer>);
}

export interface PageAnswer {
  view: string;
  locals: Record<string, unknown>;
  status?: number;
}

/** Answers `req` as `answer` describes, for whichever audience asked. */
export async function respond(req: Request, res: Response, answer: Answer): Promise<void> {
  if (wantsJson(req)) {
    if (answer.location) res.location(answer.location);
    const body = typeof answer.json === 'function' ? await (answer.json as () => unknown)() : answer.json;
    res.status(answer.status ?? 200).json(body);
    return;
  }
  if (answer.flash) flash(req, answer.flash.type, answer.flash.message);
  if (answer.redirect) return res.redirect(303, answer.redirect);
  if (!answer.page) throw new Error(`${req.method} ${req.path} has no page or redirect for browsers`);
  const page = typeof answer.page === 'function' ? await answer.page() : answer.page;
  res.status(page.status ?? answer.status ?? 200).render(page.view, page.locals);
}

/** Why a form was not accepted: shown on the re-rendered form. */
export interface FormFailure {
  /** 422 (invalid input) or 409 (a clash with existing data). */
  status: number;
  /** The summary line above the form. */
  error: string;
  /** Field name → message, shown beside each field. */
  fields: Record<string, string>;
  /** What the browser submitted, so nothing typed is lost. */
  values: Record<string, unknown>;
}

type Handler = (req: Request, res: Response) => Promise<unknown> | unknown;

/** Input errors that belong on a form: invalid (422) or clashing (409); not 404s and the like. */
export function isFormError(err: unknown): err is AppError {
  return err instanceof AppError && (err.status === 422 || err.status === 409);
}

/**
 * A form's submit handler. When `handler` rejects the input (422/409), a browser gets the form again
 * from `rerender`, with the messages and the submitted values, at that status; API clients and every
 * other error go on to the error handler (JSON `{error, fields}`). `also` names further statuses that
 * belong on the page (a drift action's 404: the machine went away since the page was drawn).
 */
export function formHandler(handler: Handler, rerender: (req: Request, res: Response, failure: FormFailure) => unknown, also: number[] = []): RequestHandler {
  const named = async (req: Request, res: Response) => {
    try {
      await handler(req, res);
    } catch (err) {
      const onPage = isFormError(err) || (err instanceof AppError && also.includes(err.status));
      if (wantsJson(req) || !onPage || res.headersSent) throw err;
      await rerender(req, res, { status: err.status, error: err.message, fields: err.fields ?? {}, values: (req.body as Record<string, unknown> | undefined) ?? {} });
    }
  };
  // Keep the handler's name on the route (logs, the route table).
  return Object.defineProperty(named, 'name', { value: handler.name || 'form' }) as RequestHandler;
}
