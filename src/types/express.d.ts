import 'express-session';
import type { CurrentUser } from '../lib/current-user.js';

declare module 'express-session' {
  interface SessionData {
    userId?: number;
    /** When the user logged in (ms since epoch): the session's absolute lifetime counts from here. */
    loggedInAt?: number;
    csrfToken?: string;
    flash?: Array<{ type: 'info' | 'success' | 'error'; message: string }>;
  }
}

declare global {
  namespace Express {
    interface Request {
      /** The logged-in user, re-read from the database on every request; undefined when anonymous. */
      user?: CurrentUser;
      /** Set by csrf-sync. */
      csrfToken?: (overwrite?: boolean) => string;
    }
  }
}
