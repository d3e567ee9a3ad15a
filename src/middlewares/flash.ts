import type { Request, RequestHandler } from 'express';

export type FlashType = 'info' | 'success' | 'error';

/** Queues a message shown once, on the next page that is rendered (usually after a redirect). */
export function flash(req: Request, type: FlashType, message: string): void {
  if (!req.session) return;
  req.session.flash = [...(req.session.flash ?? []), { type, message }];
}

/**
 * `res.locals.flash` for the layout: read lazily, so only a page that is actually rendered consumes
 * the queued messages (a JSON answer or a redirect leaves them for the next page).
 */
export const flashLocals: RequestHandler = (req, res, next) => {
  Object.defineProperty(res.locals, 'flash', {
    enumerable: true,
    configurable: true,
    get() {
      const messages = req.session?.flash ?? [];
      if (req.session?.flash) delete req.session.flash;
      return messages;
    },
  });
  next();
};
