// GET /pools (README §9.5, pve-manager API2/Pool.pm): the pools a caller may audit, sorted; with
// `poolid`, that one pool and its members as /cluster/resources rows, for any logged-in caller
// (the real code runs the Pool.Audit check there but ignores its result).
import { die } from '../errors.js';
import { str, who, type Ctx, type Handler } from '../core.js';
import type { PoolRec } from '../state.js';
import { resourceRows } from '../views.js';

function poolRow(p: PoolRec): Record<string, unknown> {
  return { poolid: p.poolid, ...(p.comment !== undefined ? { comment: p.comment } : {}) };
}

/** Guest members, then storage members (one row per node that has the storage); `type` filters them. */
function members(ctx: Ctx, p: PoolRec): Record<string, unknown>[] {
  const { core } = ctx;
  const type = str(ctx, 'type');
  const now = core.clock.now();
  const guests = resourceRows(core.state, now, 'vm').filter((r) => p.vms.includes(Number(r.vmid)) && (!type || r.type === type));
  const storages = !type || type === 'storage'
    ? resourceRows(core.state, now, 'storage').filter((r) => p.storage.includes(String(r.storage)))
    : [];
  return [...guests, ...storages];
}

function list(ctx: Ctx): unknown {
  const { core } = ctx;
  const poolid = str(ctx, 'poolid');
  if (poolid !== undefined) {
    const pool = core.state.pools.find((p) => p.poolid === poolid);
    if (!pool) throw die(`pool '${poolid}' does not exist`);
    return [{ ...poolRow(pool), members: members(ctx, pool) }];
  }
  const me = who(ctx);
  return core.state.pools
    .filter((p) => core.perms.has(me, `/pool/${p.poolid}`, 'Pool.Audit'))
    .sort((a, b) => (a.poolid < b.poolid ? -1 : a.poolid > b.poolid ? 1 : 0))
    .map(poolRow);
}

export const poolHandlers: Record<string, Handler> = {
  'GET /pools': list,
};
