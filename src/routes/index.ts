import type { Express, Router } from 'express';
import type { AccessLevel } from '../policies/access.js';
import type { SubjectDeclaration } from '../policies/subjects.js';
import { accountRequestRoutes } from './account-requests.js';
import type { RouteContext } from './context.js';
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
import { provisioningSettingsRoutes } from './provisioning-settings.js';
import { containerRequestRoutes } from './container-requests.js';
import { containerLifecycleRoutes } from './containers-lifecycle.js';
import { vmLifecycleRoutes } from './vms-lifecycle.js';
import { containerCreateRoutes } from './containers-create.js';
import { serviceRoutes } from './services.js';
import { domainRoutes } from './domains.js';
import { edgeRoutes } from './edge.js';
import { expiryRoutes } from './expiry.js';
import { outboxRoutes } from './outbox.js';

/**
 * The route table: one router per resource (the key is its file, src/routes/<key>.ts), each defining
 * full paths, mounted at the root in this order. Inventory routers with fixed paths under /containers
 * and /vms (export.csv, import, bulk, credentials) come before the records router, whose
 * /containers/:id would match them. docs/routes.md lists every route (`npm run routes-doc`).
 */
const ROUTERS = {
  health: healthRoutes,
  auth: authRoutes,
  home: homeRoutes,
  register: registerRoutes,
  account: accountRoutes,
  'account-requests': accountRequestRoutes,
  users: userRoutes,
  tokens: tokenRoutes,
  mail: mailRoutes,
  jobs: jobsRoutes,
  stream: streamRoutes,
  nodes: nodeRoutes,
  'inventory-sync': inventorySyncRoutes,
  audit: auditRoutes,
  'provisioning-settings': provisioningSettingsRoutes,
  'container-requests': containerRequestRoutes,
  'containers-create': containerCreateRoutes,
  'containers-lifecycle': containerLifecycleRoutes,
  'vms-lifecycle': vmLifecycleRoutes,
  services: serviceRoutes,
  domains: domainRoutes,
  edge: edgeRoutes,
  expiry: expiryRoutes,
  outbox: outboxRoutes,
  'inventory-import': inventoryImportRoutes,
  'inventory-list': inventoryListRoutes,
  credentials: credentialRoutes,
  'inventory-records': inventoryRecordRoutes,
} satisfies Record<string, (ctx: RouteContext) => Router>;

/** Mounts every router of the route table on `app`, each tagged with its file for listRoutes(). */
export function mountRoutes(app: Express, ctx: RouteContext): void {
  for (const [key, make] of Object.entries(ROUTERS)) app.use(Object.assign(make(ctx), { sourceFile: `src/routes/${key}.ts` }));
}

export interface RouteInfo {
  method: string;
  path: string;
  accessLevel: AccessLevel | undefined;
  /** The object the route loads and the action it needs (`load.<kind>(action)`), if any. */
  subject: SubjectDeclaration | undefined;
  /** The route's own handler's name (the last function on the route). */
  handlerName: string;
  /** The router file that defines it. */
  sourceFile: string;
  match(path: string): boolean;
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean>; stack: Array<{ handle: { accessLevel?: AccessLevel; subject?: SubjectDeclaration; name: string } }> };
  handle: { stack?: Layer[]; sourceFile?: string };
  match(path: string): boolean;
}

/**
 * Every route registered on `app` with its method, declared access level and loaded object: used to
 * answer 405 for a known path with the wrong method, and by the tests that fail when a route
 * declares no policy (test/integration/route-policies.test.ts).
 */
export function listRoutes(app: Express): RouteInfo[] {
  const out: RouteInfo[] = [];
  const walk = (stack: Layer[], sourceFile = '') => {
    for (const layer of stack) {
      if (layer.route) {
        const accessLevel = layer.route.stack.find((s) => s.handle.accessLevel)?.handle.accessLevel;
        const subject = layer.route.stack.find((s) => s.handle.subject)?.handle.subject;
        const handlerName = layer.route.stack.at(-1)?.handle.name ?? '';
        for (const method of Object.keys(layer.route.methods)) {
          if (method === '_all') continue;
          out.push({ method: method.toUpperCase(), path: layer.route.path, accessLevel, subject, handlerName, sourceFile, match: (p) => layer.match(p) });
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, layer.handle.sourceFile ?? sourceFile);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}
