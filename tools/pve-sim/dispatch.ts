// The request pipeline for /api2/json, in the order a real node applies it: find the method
// (501), authenticate (401, CSRF), refuse tokens where `allowtoken` is 0 (403), resolve the
// target node for `proxyto` methods (500; a bare 595 after a connect delay when it is offline),
// check permissions (403), validate parameters against the schema (400), run the handler, and
// write the envelope.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counted, type SimCore } from './core.js';
import { die, paramError, SimHttpError } from './errors.js';
import { handlers } from './handlers/index.js';
import { bodyParams, queryParams, sendBare, sendData, sendError, sendUnauthorized } from './http.js';
import type { Principal } from './perms.js';
import { matchRoute } from './schema.js';
import { validateParams, type ParamValue } from './validator.js';

const delay = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Serve one request whose path is below /api2/json (`rel` starts with `/`; `body` already read). */
export async function dispatch(core: SimCore, req: IncomingMessage, res: ServerResponse, rel: string, search: URLSearchParams, body: Buffer): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  let segments: string[];
  try {
    segments = rel.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  } catch {
    return sendError(res, 400, 'malformed URI\n');
  }
  const record: SimCore['requests'][number] = { method, path: `/${segments.join('/')}`, at: core.clock.now() };
  core.requests.push(record);
  try {
    const match = matchRoute(core.routes, segments);
    const info = match?.route.methods[method as 'GET'];
    const handler = match && handlers[`${method} ${match.route.template}`];
    if (!match || !info || !handler) throw new SimHttpError(501, `Method '${method} ${rel}' not implemented\n`);
    if ((method === 'GET' || method === 'DELETE') && body.length) {
      throw new SimHttpError(501, `Unexpected content for method '${method}'\n`);
    }

    const authz = header(req, 'authorization');
    if (authz?.startsWith('PVEAPIToken') && info.allowtoken === 0) {
      throw new SimHttpError(403, `URI '${rel}' not available with API token, need proper ticket.\n`);
    }
    let who: Principal | undefined;
    if (info.permissions?.user !== 'world') {
      const auth = core.auth.authenticate(header(req, 'cookie'), authz);
      if (!auth.ok) {
        record.status = 401;
        await delay(core.faults.authFailDelayMs);
        return sendUnauthorized(res, auth.reason);
      }
      if (auth.via === 'ticket' && method !== 'GET' && !core.auth.verifyCsrf(header(req, 'csrfpreventiontoken'), auth.principal.userid)) {
        record.status = 401;
        await delay(core.faults.authFailDelayMs);
        return sendUnauthorized(res, 'Permission denied - invalid csrf token');
      }
      who = auth.principal;
      record.user = who.tokenid ?? who.userid;
    }

    let params: Record<string, ParamValue>;
    try {
      params = { ...queryParams(search), ...bodyParams(body, header(req, 'content-type')) };
    } catch (e) {
      throw new SimHttpError(400, `${(e as Error).message}\n`);
    }
    for (const [k, v] of Object.entries(match.params)) {
      if (params[k] !== undefined && String(params[k]) !== v) {
        throw new SimHttpError(400, 'duplicate parameter (already defined in URI) with conflicting values!\n');
      }
      params[k] = v;
    }

    if (info.proxyto) {
      const node = core.state.node(String(params[info.proxyto]));
      if (!node.online) {
        // pveproxy tries to connect to the node first; the error comes from AnyEvent::HTTP, not
        // from an API handler, so there is no JSON envelope, only the status line.
        record.status = 595;
        await delay(core.faults.offlineDelayMs);
        return sendBare(res, 595, core.faults.offlineReason);
      }
    }
    if (who && info.permissions?.check) core.perms.check(who, info.permissions.check, params);
    const errors = validateParams(info.parameters, params);
    if (Object.keys(errors).length) throw paramError(errors);
    const injected = core.faults.takeCallFailure(`${method} ${match.route.template}`);
    if (injected) throw new SimHttpError(injected.status, injected.message);

    const result = handler({ core, who, params });
    record.status = 200;
    if (result instanceof Counted) return sendData(res, result.data, result.total);
    return sendData(res, result);
  } catch (e) {
    const err = e instanceof SimHttpError ? e : die(`internal simulator error: ${(e as Error).message}`);
    record.status = err.status;
    if (err.status === 401) await delay(core.faults.authFailDelayMs);
    return sendError(res, err.status, err.message, err.errors);
  }
}
