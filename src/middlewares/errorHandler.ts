import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { UniqueConstraintError, ValidationError as SequelizeValidationError } from 'sequelize';
import { AppError, MethodNotAllowedError, NotFoundError } from '../lib/errors.js';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Login required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Request too large',
  415: 'Unsupported media type',
  422: 'Invalid input',
  429: 'Too many requests',
  500: 'Something went wrong',
  502: 'Upstream error',
  503: 'Service unavailable',
};

/** JSON for API paths, fetch() and clients that prefer it; HTML pages for browsers. */
export function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/') || req.xhr) return true;
  if (req.is('application/json')) return true;
  return req.accepts(['html', 'json']) === 'json';
}

interface Mapped {
  status: number;
  message: string;
  fields?: Record<string, string>;
}

/** The one place where errors become HTTP answers. */
function mapError(err: unknown): Mapped {
  if (err instanceof AppError) return { status: err.status, message: err.message, fields: err.fields };
  if (err instanceof UniqueConstraintError) {
    const fields: Record<string, string> = {};
    for (const item of err.errors) if (item.path) fields[item.path] = `${item.path} '${String(item.value)}' is already taken`;
    return { status: 409, message: 'That value is already taken.', fields };
  }
  if (err instanceof SequelizeValidationError) {
    const fields: Record<string, string> = {};
    for (const item of err.errors) fields[item.path ?? 'record'] = item.message;
    return { status: 422, message: 'Some fields are invalid.', fields };
  }
  const e = err as { type?: string; code?: string; status?: number; statusCode?: number; expose?: boolean; message?: string };
  if (e?.type === 'entity.too.large') return { status: 413, message: 'The request body is too large.' };
  if (e?.type === 'entity.parse.failed') return { status: 400, message: 'The request body is not valid JSON.' };
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return { status: 415, message: 'Unsupported request encoding.' };
  if (e?.code === 'EBADCSRFTOKEN') return { status: 403, message: e.message ?? 'Invalid CSRF token.' };
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, message: e.expose && e.message ? e.message : TITLES[status] ?? 'Bad request' };
  return { status: 500, message: 'Something went wrong on our side.' };
}

export const errorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) return next(err);
  const mapped = mapError(err);
  const requestId = String(req.id ?? '');
  if (mapped.status >= 500) req.log?.error({ err }, 'request failed');
  else req.log?.warn({ status: mapped.status, error: mapped.message }, 'request rejected');
  if (err instanceof MethodNotAllowedError) res.setHeader('Allow', err.allow.join(', '));
  if (wantsJson(req)) {
    res.status(mapped.status);
    res.json({ error: mapped.message, ...(mapped.fields ? { fields: mapped.fields } : {}), requestId });
    return;
  }
  if (mapped.status === 401 && req.method === 'GET') {
    // A page that needs a login sends the browser to the login form, and back here afterwards.
    res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    return;
  }
  res.status(mapped.status).render('errors/error', {
    title: TITLES[mapped.status] ?? 'Error',
    status: mapped.status,
    message: mapped.message,
    requestId,
  });
};

/**
 * Unknown paths get 404; a known path asked with the wrong method gets 405 with an Allow header.
 * `allowedMethods` is computed once from the app's route table.
 */
export function notFound(allowedMethods: (path: string) => string[]): RequestHandler {
  return (req, _res, next) => {
    const allow = allowedMethods(req.path);
    if (allow.length) next(new MethodNotAllowedError(`${req.method} is not supported on ${req.path} (use ${allow.join(', ')}).`, allow));
    else next(new NotFoundError(`No page at ${req.path}.`));
  };
}
