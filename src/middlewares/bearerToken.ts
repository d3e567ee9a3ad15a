import type { Request, RequestHandler } from 'express';
import type { Session, SessionData } from 'express-session';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import { actorOf } from '../audit/index.js';
import { hashApiToken, tokenKeys } from '../lib/tokens.js';
import { accountUsable, presentUser } from '../lib/current-user.js';
import type { ProxmoxRights } from '../services/proxmoxRights.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types are augmented through its namespace
  namespace Express {
    interface Request {
      /** Set when the request authenticated with `Authorization: Bearer <API token>`. */
      apiToken?: { id: number; name: string; scope: string };
    }
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What an `edge`-scope token may do: what bin/berth-edge-pull does, and nothing else. */
function isEdgeRequest(req: Request): boolean {
  return ((req.method === 'GET' || req.method === 'HEAD') && req.path === '/nginx.conf') || (req.method === 'POST' && req.path === '/edges/report');
}
/** lastUsedAt is written at most this often per token, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** True when the request carries an `Authorization: Bearer` header (valid or not). */
export function isBearerRequest(req: Request): boolean {
  return /^Bearer\s/i.test(req.headers.authorization ?? '');
}

/**
 * Authenticates `Authorization: Bearer <API token>` before sessions are loaded. The token alone
 * says who the caller is: the request's cookie is dropped (a token request never acts as the
 * cookie's user) and no session row is read or written. Such requests need no CSRF token, since a
 * browser cannot attach the header to a cross-site request. A bad, revoked or expired token, or one
 * whose user is disabled, is refused with 401 (never a fallback to the cookie); a read token may
 * only GET. A Proxmox account's groups and status are re-read when older than PROXMOX_RECHECK_MINUTES.
 */
export function bearerToken(models: Models, config: Config, rights?: ProxmoxRights): RequestHandler {
  const keys = tokenKeys(config);
  // Edge tokens pull every minute from every edge: one that was valid moments ago is trusted for
  // EDGE_PULL_CACHE_MS without a database read (docs/edge.md says revocation takes that long).
  const edgeTokens = new Map<string, { until: number; apiToken: NonNullable<Request['apiToken']>; user: NonNullable<Request['user']> }>();
  return async (req, res, next) => {
    if (!isBearerRequest(req)) return next();
    delete req.headers.cookie;
    const refuse = (status: number, error: string) => {
      if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="berth"');
      res.status(status).json({ error, requestId: String(req.id ?? '') });
    };
    const hash = hashApiToken(keys, (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '').trim());
    const trusted = hash ? edgeTokens.get(hash) : undefined;
    if (trusted && trusted.until > Date.now() && isEdgeRequest(req)) {
      req.apiToken = trusted.apiToken;
      req.user = trusted.user;
      return next();
    }
    const token = hash ? await models.ApiToken.findOne({ where: { tokenHash: hash }, include: [{ model: models.User, as: 'user' }] }) : null;
    const user = (token as unknown as { user?: InstanceType<Models['User']> } | null)?.user;
    const now = new Date();
    // A Proxmox account's token carries only the rights Proxmox still gives (re-read when stale).
    if (user && token && !token.revokedAt) await rights?.refreshIfDue(user, actorOf(req), now);
    if (!token || !user || token.revokedAt || (token.expiresAt && token.expiresAt <= now) || !accountUsable(user, now)) {
      return refuse(401, 'Invalid, expired or revoked API token.');
    }
    if (token.scope === 'read' && !SAFE_METHODS.has(req.method)) return refuse(403, 'This API token is read-only.');
    if (token.scope === 'edge' && !isEdgeRequest(req)) return refuse(403, 'This is an edge token: it may only pull /nginx.conf and POST /edges/report.');
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await token.update({ lastUsedAt: now });
    }
    req.apiToken = { id: token.id, name: token.name, scope: token.scope };
    req.user = presentUser(user);
    if (token.scope === 'edge' && hash && config.EDGE_PULL_CACHE_MS > 0) {
      if (edgeTokens.size >= 1000) edgeTokens.clear();
      edgeTokens.set(hash, { until: now.getTime() + config.EDGE_PULL_CACHE_MS, apiToken: req.apiToken, user: req.user });
    }
    next();
  };
}

/** A session that lives for one request and is never stored: what token requests get. */
function detachedSession(): Session & Partial<SessionData> {
  const session = {
    id: '',
    cookie: {},
    regenerate: (cb: (err?: unknown) => void) => (cb(), session),
    destroy: (cb: (err?: unknown) => void) => (cb(), session),
    reload: (cb: (err?: unknown) => void) => (cb(), session),
    save: (cb?: (err?: unknown) => void) => (cb?.(), session),
    touch: () => session,
    resetMaxAge: () => session,
  };
  return session as unknown as Session & Partial<SessionData>;
}

/** Runs the session middleware except for bearer-token requests, which get a throwaway session. */
export function unlessBearer(sessionMiddleware: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (!req.apiToken) return sessionMiddleware(req, res, next);
    req.session = detachedSession();
    next();
  };
}
