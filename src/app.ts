import express, { type Express, type Request } from 'express';
import { Auditor } from './audit/index.js';
import type { AppDeps } from './deps.js';
import { Vault } from './lib/vault.js';
import { publicDir, viewsDir } from './lib/paths.js';
import { renderWithLayout } from './lib/views.js';
import { bearerToken, isBearerRequest, unlessBearer } from './middlewares/bearerToken.js';
import { csrfLocals, csrfProtection } from './middlewares/csrf.js';
import { currentUser } from './middlewares/currentUser.js';
import { errorHandler, notFound } from './middlewares/errorHandler.js';
import { flashLocals } from './middlewares/flash.js';
import { publicRateLimit } from './middlewares/rateLimit.js';
import { requestLogging } from './middlewares/requestLogging.js';
import { csvUpload } from './middlewares/upload.js';
import { securityHeaders } from './middlewares/securityHeaders.js';
import { createSessionStore, sessions } from './middlewares/session.js';
import { listRoutes, mountRoutes, type RouteInfo } from './routes/index.js';
import { ProxmoxRights } from './services/proxmoxRights.js';

export interface BerthApp {
  app: Express;
  /** Stops the app's timers (session expiry sweep) and closes the audit file; the HTTP server is closed by its owner. */
  stop(): Promise<void>;
}

/** Builds the Express app: middleware in order, routes, 404/405, error handler. No listen(). */
export function createApp(deps: AppDeps): BerthApp {
  const { config, models } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('views', viewsDir);
  app.set('view engine', 'ejs');
  app.engine('ejs', renderWithLayout);
  if (config.isProduction) app.enable('view cache');

  app.use(requestLogging(deps.logger));
  app.use(securityHeaders({ upgradeInsecureRequests: config.publicUrl.startsWith('https:') }));
  app.use(express.static(publicDir, { index: false, maxAge: config.isProduction ? '1h' : 0 }));
  app.use(express.json({ limit: `${config.BODY_LIMIT_KB}kb` }));
  app.use(express.urlencoded({ extended: false, limit: `${config.BODY_LIMIT_KB}kb`, parameterLimit: 200 }));

  const sessionStore = createSessionStore(deps.sequelize);
  const auditor = Auditor.fromConfig(config, models, deps.logger, 'audit.log');
  const vault = Vault.fromConfig(config);
  // Rights that come from Proxmox (group, account) are re-read when stale, for tokens and sessions.
  const proxmoxRights = new ProxmoxRights({ models, sequelize: deps.sequelize, config, vault, logger: deps.logger, auditor });
  // An API token authenticates alone, before (and instead of) the cookie session.
  app.use(bearerToken(models, config, proxmoxRights));
  app.use(unlessBearer(sessions(config, sessionStore)));
  app.use(currentUser(models, config, proxmoxRights));
  app.use(csrfLocals);
  app.use(flashLocals);
  app.use((req, res, next) => {
    res.locals.path = req.path;
    res.locals.requestId = req.id;
    next();
  });
  // A request no route answers gets its 404/405, not a CSRF error.
  let routes: RouteInfo[] = [];
  const isRouted = (req: Request) => routes.some((r) => r.method === req.method && r.match(req.path));
  // Bearer-token requests need no CSRF token: a browser cannot add that header cross-site.
  app.use(csvUpload);
  // An edge's report authenticates by token or by address, never by the session; without a token it
  // must carry X-Berth-Edge, a header a cross-site form cannot send (bin/berth-edge-pull always does).
  const isEdgeReport = (req: Request) => req.method === 'POST' && req.path === '/edges/report' && req.get('x-berth-edge') !== undefined;
  app.use(csrfProtection((req) => !isRouted(req) || (isBearerRequest(req) && req.apiToken !== undefined) || isEdgeReport(req)));

  mountRoutes(app, { ...deps, auditor, vault, publicLimit: publicRateLimit(config, models) });

  routes = listRoutes(app);
  const allowedMethods = (path: string) => [...new Set(routes.filter((r) => r.match(path)).map((r) => r.method))];
  app.use(notFound(allowedMethods));
  app.use(errorHandler);

  return {
    app,
    stop: async () => {
      sessionStore.stopExpiringSessions();
      await auditor.close();
    },
  };
}
