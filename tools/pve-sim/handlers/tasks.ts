// /nodes/{node}/tasks: task list (finished tasks by default), status and log.
import { paramError, permError } from '../errors.js';
import { Counted, flag, int, str, who, type Ctx, type Handler } from '../core.js';
import { splitList } from '../formats.js';
import type { SimTask } from '../tasks.js';
import { parseUpid } from '../upid.js';

function mayRead(ctx: Ctx, t: SimTask): boolean {
  const me = who(ctx);
  return t.principal.userid === me.userid || ctx.core.perms.has(me, `/nodes/${t.node}`, 'Sys.Audit');
}

/** The task named by `{upid}`; 400s as Tasks.pm raises them. */
function findTask(ctx: Ctx): SimTask | undefined {
  const upid = str(ctx, 'upid')!;
  if (!parseUpid(upid)) throw paramError({ upid: 'unable to parse worker upid' });
  const t = ctx.core.tasks.tasks.get(upid);
  return t && t.node === str(ctx, 'node') ? t : undefined;
}

function status(ctx: Ctx): unknown {
  const t = findTask(ctx);
  if (!t) throw paramError({ upid: 'no such task' });
  if (!mayRead(ctx, t)) throw permError(`/nodes/${t.node}, Sys.Audit`);
  const row: Record<string, unknown> = {
    upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id,
    user: t.principal.userid, status: t.status,
  };
  if (t.principal.tokenid) row.tokenid = t.principal.tokenid.split('!')[1];
  if (t.status === 'stopped') row.exitstatus = t.exitstatus;
  return row;
}

function log(ctx: Ctx): unknown {
  const t = findTask(ctx);
  if (!t) return new Counted([{ n: 1, t: 'unable to open file - No such file or directory' }], 1);
  if (!mayRead(ctx, t)) throw permError(`/nodes/${t.node}, Sys.Audit`);
  // PVE::Tools::dump_logfile adds this line for ExtJS when the file has no lines yet, and counts
  // it: the answer is `total: 1`, whatever `start` asked for.
  if (!t.log.length) return new Counted([{ n: 1, t: 'no content' }], 1);
  const start = int(ctx, 'start') ?? 0;
  const limit = int(ctx, 'limit') ?? 50;
  const slice = t.log.slice(start, limit === 0 ? undefined : start + limit);
  return new Counted(slice.map((line, i) => ({ n: start + i + 1, t: line })), t.log.length);
}

function statusClass(t: SimTask): string {
  if (t.exitstatus === 'OK') return 'ok';
  if (t.exitstatus?.startsWith('WARNINGS')) return 'warning';
  return t.exitstatus ? 'error' : 'unknown';
}

function list(ctx: Ctx): unknown {
  const node = str(ctx, 'node')!;
  const source = str(ctx, 'source') ?? 'archive';
  const vmid = str(ctx, 'vmid');
  const type = str(ctx, 'typefilter');
  const user = str(ctx, 'userfilter')?.toLowerCase();
  const statuses = splitList(str(ctx, 'statusfilter') ?? '').map((s) => s.toLowerCase());
  const errorsOnly = flag(ctx, 'errors') ?? false;
  const since = int(ctx, 'since');
  const until = int(ctx, 'until');
  const rows = [...ctx.core.tasks.tasks.values()]
    .filter((t) => t.node === node && mayRead(ctx, t))
    .filter((t) => (source === 'all' ? true : source === 'active' ? t.status === 'running' : t.status === 'stopped'))
    .filter((t) => (vmid === undefined || t.id === vmid) && (!type || t.type === type))
    .filter((t) => !user || t.user.toLowerCase().includes(user))
    .filter((t) => (!statuses.length || statuses.includes(statusClass(t))) && (!errorsOnly || statusClass(t) === 'error'))
    .filter((t) => (since === undefined || t.starttime >= since) && (until === undefined || t.starttime <= until))
    .sort((a, b) => b.starttime - a.starttime || b.pid - a.pid)
    .map((t) => ({
      upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user: t.user,
      status: t.status === 'running' ? 'RUNNING' : t.exitstatus, ...(t.endtime ? { endtime: t.endtime } : {}),
    }));
  const start = int(ctx, 'start') ?? 0;
  const limit = int(ctx, 'limit') ?? 50;
  return new Counted(rows.slice(start, limit === 0 ? undefined : start + limit), rows.length);
}

export const taskHandlers: Record<string, Handler> = {
  'GET /nodes/{node}/tasks': list,
  'GET /nodes/{node}/tasks/{upid}/status': status,
  'GET /nodes/{node}/tasks/{upid}/log': log,
};
