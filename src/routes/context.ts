import type { RequestHandler } from 'express';
import type { Auditor } from '../audit/index.js';
import type { AppDeps } from '../deps.js';
import type { Vault } from '../lib/vault.js';

// Its own module, not the route table's (index.ts): every router imports it and the table imports
// every router, so declaring it in index.ts made each router and the table a cycle.
/** What every router gets: the app's dependencies plus shared middleware. */
export interface RouteContext extends AppDeps {
  /** Writes the audit trail (AuditEvents + audit file): every write records one event in its transaction. */
  auditor: Auditor;
  /** Seals and opens secrets (credentials, node API tokens). */
  vault: Vault;
  /** The public routes' per-IP limit (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MINUTES). */
  publicLimit: RequestHandler;
}
