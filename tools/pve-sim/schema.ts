// Loads the official schema subset (pve-api-subset.json, a verbatim extract of PVE 9.1's
// apidata.js) at runtime and compiles its paths into routes. The simulator validates every request
// against these entries, so the schema file, not hand-written rules, decides what is accepted.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One parameter or property-string key, as in the schema (flags are 0/1). */
export interface PropSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'null';
  optional?: 0 | 1;
  default?: unknown;
  enum?: string[];
  minimum?: number | string;
  maximum?: number | string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /** A named format (`pve-node`) or a property-string schema (object of keys). */
  format?: string | Record<string, PropSchema>;
  default_key?: 0 | 1;
  requires?: string;
  description?: string;
  [k: string]: unknown;
}

export interface ParamsSchema {
  additionalProperties?: 0 | 1;
  properties?: Record<string, PropSchema>;
}

export interface MethodInfo {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  name: string;
  parameters: ParamsSchema;
  permissions?: { user?: 'all' | 'world'; check?: unknown[]; description?: string };
  allowtoken?: 0 | 1;
  proxyto?: string;
  protected?: 0 | 1;
  returns?: unknown;
}

export interface SchemaFile {
  paths: Record<string, { info: Partial<Record<MethodInfo['method'], MethodInfo>>; _omitted_methods?: string[] }>;
}

/** A compiled path: `/nodes/{node}/lxc/{vmid}` with its placeholder names and methods. */
export interface Route {
  template: string;
  segments: string[];
  params: string[];
  methods: Partial<Record<MethodInfo['method'], MethodInfo>>;
}

/** The schema subset kept beside this module (the simulator always runs from its sources, never from dist/). */
export const DEFAULT_SCHEMA_FILE = fileURLToPath(new URL('./pve-api-subset.json', import.meta.url));

const cache = new Map<string, SchemaFile>();

/**
 * Read and parse a schema file (default: the copy shipped beside this module). Parsed once per
 * file; callers must treat the result as read-only.
 */
export function loadSchema(file = DEFAULT_SCHEMA_FILE): SchemaFile {
  let parsed = cache.get(file);
  if (!parsed) {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as SchemaFile;
    if (!parsed || typeof parsed.paths !== 'object') throw new Error(`${file}: no "paths" object`);
    cache.set(file, parsed);
  }
  return parsed;
}

/** Compile schema paths into routes, static segments before placeholders. */
export function compileRoutes(schema: SchemaFile): Route[] {
  return Object.entries(schema.paths).map(([template, entry]) => {
    const segments = template.split('/').filter(Boolean);
    return {
      template,
      segments,
      params: segments.filter((s) => s.startsWith('{')).map((s) => s.slice(1, -1)),
      methods: entry.info,
    };
  });
}

/**
 * Find the route for a path below /api2/json (segments already URI-decoded). Literal segments win
 * over placeholders, as in PVE's RESTHandler. Returns the placeholder values too.
 */
export function matchRoute(routes: Route[], segments: string[]): { route: Route; params: Record<string, string> } | null {
  let best: { route: Route; params: Record<string, string>; literals: number } | null = null;
  for (const route of routes) {
    if (route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const s = route.segments[i];
      if (s.startsWith('{')) params[s.slice(1, -1)] = segments[i];
      else if (s === segments[i]) literals++;
      else ok = false;
    }
    if (ok && (!best || literals > best.literals)) best = { route, params, literals };
  }
  return best ? { route: best.route, params: best.params } : null;
}

/** Every `METHOD path` pair in the schema, e.g. `POST /nodes/{node}/lxc`. */
export function listOperations(schema: SchemaFile): Array<{ method: MethodInfo['method']; path: string; info: MethodInfo }> {
  const out: Array<{ method: MethodInfo['method']; path: string; info: MethodInfo }> = [];
  for (const [path, entry] of Object.entries(schema.paths)) {
    for (const [method, info] of Object.entries(entry.info)) {
      if (info) out.push({ method: method as MethodInfo['method'], path, info });
    }
  }
  return out;
}
