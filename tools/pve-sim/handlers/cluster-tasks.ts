// GET /cluster/tasks (README §9.5, pve-manager API2/Cluster.pm, pve-cluster `get_tasklist`): the
// lists the nodes publish, joined node after node. A node's list holds all its running tasks, then
// its newest finished ones, up to 25 entries. Callers without Sys.Audit on / see only their own.
import { who, type Ctx, type Handler } from '../core.js';
import type { SimTask } from '../tasks.js';

/** Entries a node publishes (more only while more tasks than this are running). */
export const NODE_TASK_LIST_SIZE = 25;

/** One node's published list: running tasks, then finished ones, newest first. */
function published(tasks: SimTask[]): SimTask[] {
  const newestFirst = (a: SimTask, b: SimTask) => b.starttime - a.starttime || b.pid - a.pid;
  const running = tasks.filter((t) => t.status === 'running').sort(newestFirst);
  const finished = tasks.filter((t) => t.status === 'stopped')
    .sort((a, b) => (b.endtime ?? 0) - (a.endtime ?? 0) || newestFirst(a, b));
  return [...running, ...finished.slice(0, Math.max(0, NODE_TASK_LIST_SIZE - running.length))];
}

/** The entry as pvestatd writes it: no `pstart`; `pid` only while running; the token split off the user. */
function entry(t: SimTask): Record<string, unknown> {
  const row: Record<string, unknown> = { upid: t.upid, node: t.node, starttime: t.starttime, type: t.type, id: t.id, user: t.principal.userid };
  if (t.principal.tokenid) row.tokenid = t.principal.tokenid.split('!')[1];
  if (t.status === 'running') row.pid = t.pid;
  else Object.assign(row, { endtime: t.endtime, status: t.exitstatus, saved: '1' });
  return row;
}

function clusterTasks(ctx: Ctx): unknown {
  const { core } = ctx;
  const me = who(ctx);
  const seeAll = core.perms.has(me, '/', 'Sys.Audit');
  // A token caller's own id is `user@realm!name`, which no entry's (split) user equals.
  const caller = me.tokenid ?? me.userid;
  const all = [...core.tasks.tasks.values()];
  return [...core.state.nodes.keys()]
    .flatMap((node) => published(all.filter((t) => t.node === node)))
    .map(entry)
    .filter((row) => seeAll || row.user === caller);
}

export const clusterTaskHandlers: Record<string, Handler> = {
  'GET /cluster/tasks': clusterTasks,
};
