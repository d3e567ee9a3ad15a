import type { Express, RequestHandler } from 'express';
import type { AppDeps } from '../app.js';
import type { Auditor } from '../audit/index.js';
import type { Vault } from '../lib/vault.js';
import type { AccessLevel } from '../policies/access.js';
import { accountRequestRoutes } from './account-requests.js';
import { accountRoutes } from './account.js';
import { authRoutes } from './auth.js';
import { healthRoutes } from './health.js';
import { homeRoutes } from './home.js';
import { mailRoutes } from './mail.js';
import { registerRoutes } from './register.js';
import { tokenRoutes } from './tokens.js';
import { userRoutes } from './users.js';
import { jobsRoutes } from './jobs.js';
import { streamRoutes } from './stream.js';
import { auditRoutes } from './audit.js';
import { inventoryListRoutes } from './inventory-list.js';
import { inventoryRecordRoutes } from './inventory-records.js';
import { credentialRoutes } from './credentials.js';
import { inventoryImportRoutes } from './inventory-import.js';
import { nodeRoutes } from './nodes.js';
import { inventorySyncRoutes } from './inventory-sync.js';

/** What every router gets: the app's dependencies plus shared middleware. */
export interface RouteContext extends AppDeps {
  /** Writes the audit trail (AuditEvents + audit file): every write records one event in its transaction. */
  auditor: Auditor;
  /** Seals and opens secrets (credentials, node API tokens). */
  vault: Vault;
  /** The public routes' per-IP limit (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MINUTES). */
  publicLimit: RequestHandler;
}

/** The route table: one router per resource, each defining full paths, mounted at the root. */
export function mountRoutes(app: Express, ctx: RouteContext): void {
  app.use(healthRoutes(ctx));
  app.use(authRoutes(ctx));
  app.use(homeRoutes(ctx));
  app.use(registerRoutes(ctx));
  app.use(accountRoutes(ctx));
  app.use(accountRequestRoutes(ctx));
  app.use(userRoutes(ctx));
  app.use(tokenRoutes(ctx));
  app.use(mailRoutes(ctx));
  app.use(jobsRoutes(ctx));
  app.use(streamRoutes(ctx));
  // Inventory. Routers with fixed paths under /containers and /vms (export.csv, import, bulk,
  // credentials) are mounted before the records router, whose /containers/:id would match them.
  // -- inventory: fixed paths --
  app.use(nodeRoutes(ctx));
  app.use(inventorySyncRoutes(ctx));
  app.use(auditRoutes(ctx));
  app.use(inventoryImportRoutes(ctx));
  app.use(inventoryListRoutes(ctx));
  app.use(credentialRoutes(ctx));
  // -- inventory: records (/:id) --
  app.use(inventoryRecordRoutes(ctx));
}

export interface RouteInfo {
  method: string;
  path: string;
  accessLevel: AccessLevel | undefined;
  match(path: string): boolean;
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean>; stack: Array<{ handle: { accessLevel?: AccessLevel } }> };
  handle: { stack?: Layer[] };
  match(path: string): boolean;
}

/**
 * Every route registered on `app` with its method and declared access level: used to answer 405 for
 * a known path with the wrong method, and by the test that fails when a route declares no policy.
 */
export function listRoutes(app: Express): RouteInfo[] {
  const out: RouteInfo[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const accessLevel = layer.route.stack.find((s) => s.handle.accessLevel)?.handle.accessLevel;
        for (const method of Object.keys(layer.route.methods)) {
          if (method === '_all') continue;
          out.push({ method: method.toUpperCase(), path: layer.route.path, accessLevel, match: (p) => layer.match(p) });
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}
