import type { RequestHandler } from 'express';
import session, { type SessionData } from 'express-session';
import SequelizeStoreInit from 'connect-session-sequelize';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import type { Config } from '../../config/index.js';

const SequelizeStore = SequelizeStoreInit(session.Store);

/**
 * The package's store returns a row until its 15-minute sweep deletes it, however long ago it
 * expired, so a cookie replayed after the idle timeout still worked. This store never hands out an
 * expired row (or one without an expiry): it deletes it and answers "no session".
 */
class ExpiringSequelizeStore extends SequelizeStore {
  constructor(
    private readonly sequelize: Sequelize,
    options: ConstructorParameters<typeof SequelizeStore>[0],
  ) {
    super(options);
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    const rows = this.sequelize.models.Session as ModelStatic<Model & { expires: Date | null; data: string | null }>;
    rows
      .findByPk(sid)
      .then(async (row) => {
        if (!row) return null;
        const { expires } = row;
        if (!expires || expires.getTime() <= Date.now()) {
          await row.destroy();
          return null;
        }
        return JSON.parse(row.data ?? 'null') as SessionData | null;
      })
      .then((sess) => callback(null, sess), (err: unknown) => callback(err));
  }
}
export type SessionStore = ExpiringSequelizeStore;

/** The session store: rows in `Sessions`, shared by every instance, with the owner's userId. */
export function createSessionStore(sequelize: Sequelize): SessionStore {
  return new ExpiringSequelizeStore(sequelize, {
    db: sequelize,
    table: 'Session',
    // Only housekeeping: an expired row is refused when read (ExpiringSequelizeStore.get).
    checkExpirationInterval: 15 * 60 * 1000,
    extendDefaultFields: (defaults: { data: string; expires: Date }, sess: { userId?: number }) => ({
      data: defaults.data,
      expires: defaults.expires,
      userId: sess.userId ?? null,
    }),
  });
}

/**
 * express-session with an idle timeout (the cookie's maxAge, renewed by `rolling`, and the row's
 * `expires`, checked on every read; currentUser checks the session's lastSeenAt too) and HttpOnly,
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
