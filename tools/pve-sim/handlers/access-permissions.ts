// GET /access/permissions (README §9.4, pve-access-control API2/AccessControl.pm `permissions`,
// RPCEnvironment.pm `get_effective_permissions`): `{path: {privilege: 1|0}}`, where 1 means the
// privilege comes from an ACL that propagates and 0 that it holds on that exact path only.
import { str, who, type Ctx, type Handler } from '../core.js';
import type { Perms, Principal } from '../perms.js';
import type { SimState } from '../state.js';

/** The paths always looked at when no `path` is asked for. */
const TOP_PATHS = ['/', '/access', '/access/groups', '/nodes', '/pool', '/sdn', '/storage', '/vms'];

/** `user@realm` or a full token id `user@realm!name` as the principal it names. */
function principalOf(id: string): Principal {
  const bang = id.indexOf('!');
  return bang < 0 ? { userid: id } : { userid: id.slice(0, bang), tokenid: id };
}

/** The privileges on one path as `{name: 1|0}`, sorted by name. */
function privilegeMap(perms: Perms, p: Principal, path: string): Record<string, number> {
  return Object.fromEntries([...perms.privilegeMap(p, path)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([priv, propagates]) => [priv, propagates ? 1 : 0]));
}

/** The fixed paths, every path with an ACL, and the `/vms/<id>` and `/storage/<id>` of pool members. */
function candidatePaths(state: SimState): string[] {
  const paths = new Set(TOP_PATHS);
  for (const a of state.acl) paths.add(a.path.replace(/(.)\/+$/, '$1'));
  for (const pool of state.pools) {
    for (const vmid of pool.vms) paths.add(`/vms/${vmid}`);
    for (const storage of pool.storage) paths.add(`/storage/${storage}`);
  }
  return [...paths].sort();
}

function permissions(ctx: Ctx): unknown {
  const { perms, state } = ctx.core;
  const me = who(ctx);
  const caller = me.tokenid ?? me.userid;
  const target = str(ctx, 'userid') ?? caller;
  const subject = principalOf(target);
  // Anyone may ask about themselves and their own tokens (a token asking about its user is "another user").
  const ownsIt = target === caller || (subject.tokenid !== undefined && subject.userid === caller);
  if (!ownsIt) perms.require(me, '/access', 'Sys.Audit');
  const path = str(ctx, 'path');
  if (path !== undefined) return { [path]: privilegeMap(perms, subject, path) };
  const result: Record<string, Record<string, number>> = {};
  for (const p of candidatePaths(state)) {
    const privs = privilegeMap(perms, subject, p);
    if (Object.keys(privs).length) result[p] = privs;
  }
  return result;
}

export const accessPermissionHandlers: Record<string, Handler> = {
  'GET /access/permissions': permissions,
};
