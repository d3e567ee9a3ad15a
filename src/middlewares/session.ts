import type { RequestHandler } from 'express';
import session from 'express-session';
import SequelizeStoreInit from 'connect-session-sequelize';
import type { Sequelize } from 'sequelize';
import type { Config } from '../../config/index.js';

const SequelizeStore = SequelizeStoreInit(session.Store);
export type SessionStore = InstanceType<typeof SequelizeStore>;

/** The session store: rows in `Sessions`, shared by every instance, with the owner's userId. */
export function createSessionStore(sequelize: Sequelize): SessionStore {
  return new SequelizeStore({
    db: sequelize,
    table: 'Session',
    checkExpirationInterval: 15 * 60 * 1000,
    extendDefaultFields: (defaults: { data: string; expires: Date }, sess: { userId?: number }) => ({
      data: defaults.data,
      expires: defaults.expires,
      userId: sess.userId ?? null,
    }),
  });
}

/**
 * express-session with an idle timeout (the cookie's maxAge, renewed by `rolling`) and HttpOnly,
 * SameSite=Lax cookies, Secure when the request came over TLS (directly or via a trusted proxy).
 */
export function sessions(config: Config, store: SessionStore): RequestHandler {
  return session({
    name: 'berth.sid',
    secret: config.SESSION_SECRET,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: config.TRUST_PROXY !== false,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.COOKIE_SECURE === 'auto' ? 'auto' : config.COOKIE_SECURE === 'true',
      maxAge: config.SESSION_IDLE_MINUTES * 60 * 1000,
    },
  });
}
