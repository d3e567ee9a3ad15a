import { Op, type Sequelize, type Transaction, type WhereOptions } from 'sequelize';
import type { Config } from '../../config/index.js';
import { UNBUILT_CONTAINER_STATUSES } from '../../models/Container.js';
import type { Models, Node } from '../../models/index.js';
import type { ClusterResource, ProxmoxClient } from '../lib/proxmox/index.js';
import type { Vault } from '../lib/vault.js';
import { Auditor } from '../audit/index.js';
import { clientForNode, describeNodeError } from '../services/nodes.js';
import { ProxmoxRights, type RightsConfig } from '../services/proxmoxRights.js';
import { findInterruptedCreates, interruptedCreateText } from '../provisioning/leftovers.js';
import { compareRecord, findMachine, machineKey, serialiseDrift, type MachineSeen } from './drift.js';
import { readMachine } from './machine-details.js';
import { KINDS, type InventoryRecord } from './kinds.js';

/**
 * Sync with Proxmox: read every node's machines, replace the GuestSnapshots and record on each
 * Container and VM how it differs from Proxmox (`drift`, `syncedAt`). This is Berth's own
 * bookkeeping, not a user's change: it is not audited and never touches an inventory field; people
 * act on the drift page (import, accept), and those actions are audited.
 */

export interface SyncDeps {
  models: Models;
  sequelize: Sequelize;
  vault: Vault;
  config: Pick<Config, 'PROXMOX_TIMEOUT_MS'> & Partial<Pick<Config, 'PROXMOX_CONNECT_TIMEOUT_MS'>> & RightsConfig;
  /** For the Proxmox rights re-check's events; without one they go to AuditEvents only. */
  auditor?: Auditor;
}

export interface SyncOptions {
  /** Progress lines ("pve1: 12 containers, 3 VMs"), each as soon as its node is read, and the summary. */
  stdout?: (text: string) => void;
  /** Per-node failures, each as soon as it happens. */
  stderr?: (text: string) => void;
  signal?: AbortSignal;
  jobId?: number | null;
  /** Only these Berth nodes (default: all). */
  nodeIds?: number[];
  now?: Date;
}

export interface SyncReport {
  /** Berth nodes whose machines could not be read, with the reason: their records were left as they were. */
  failed: Array<{ node: string; error: string }>;
  /** Proxmox node names whose machines were read (a cluster member answers for its peers). */
  covered: string[];
  /** Berth nodes with an API token that this sync tried (read or failed). */
  tried: string[];
  machines: number;
  inStep: number;
  drifted: number;
  gone: number;
  /** Left over by an interrupted create: records still `provisioning` after their job, and marked containers without a record. */
  leftover: number;
  /** The one-line outcome, also the last line of stdout: "partial: …" when some node could not be read. */
  summary: string;
}

/** Machine reads in flight at once on one node (each is one to three API calls in turn). */
export const MACHINE_READS_PER_NODE = 6;

/**
 * Runs at most `max` of the functions given to it at once, in order; the rest wait their turn. A
 * finishing function hands its slot straight to the first waiter (`active` stays as it is), so a
 * caller arriving in between cannot take it as well.
 */
export function limiter(max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max || waiting.length) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Reads one endpoint: the online cluster members it speaks for and the machines on them (templates skipped). */
async function readEndpoint(client: ProxmoxClient): Promise<{ online: string[]; machines: ClusterResource[] }> {
  const [members, resources] = await Promise.all([client.cluster.nodes(), client.cluster.resources('vm')]);
  const online = members.filter((m) => m.status === 'online').map((m) => m.node);
  const machines = resources.filter((r) => (r.type === 'lxc' || r.type === 'qemu') && typeof r.vmid === 'number' && !r.template && online.includes(String(r.node)));
  return { online, machines };
}

/**
 * Reads every node at once (one failing or hanging does not hold up the others: each node's line is
 * written as soon as it is read or has failed), then writes snapshots, drift and each node's result
 * in one transaction. Records on a node that could not be read are left as they were: never gone.
 */
export async function syncInventory(deps: SyncDeps, options: SyncOptions = {}): Promise<SyncReport> {
  const out = options.stdout ?? (() => {});
  const err = options.stderr ?? (() => {});
  const now = options.now ?? new Date();
  const nodes = await deps.models.Node.findAll({ where: options.nodeIds ? { id: options.nodeIds } : {}, order: [['name', 'ASC']] });
  // Several Berth nodes of one cluster all list the whole cluster: the first to list a machine reads it.
  const claims = new Map<string, Promise<MachineSeen>>();
  const covered = new Set<string>();
  const reported = new Set<string>();
  const failedEndpoints = new Map<string, string>();
  options.signal?.throwIfAborted();

  const readable = nodes.filter((node) => {
    if (node.apiTokenId && node.apiTokenSecret) return true;
    // Registered for reference only: nothing to read, and nothing of it is reported as gone.
    out(`${node.name}: no API token configured; skipped\n`);
    return false;
  });

  async function readNode(node: Node): Promise<void> {
    let client: ProxmoxClient | undefined;
    try {
      client = clientForNode(node, deps.vault, deps.config).abortOn(options.signal);
      const { online, machines } = await readEndpoint(client);
      const mine: Promise<MachineSeen>[] = [];
      // A few reads in flight per node: each call's timer starts when it is sent, so a whole
      // cluster's calls at once would time out waiting for a connection.
      const limit = limiter(MACHINE_READS_PER_NODE);
      const warn = (msg: string) => { if (!options.signal?.aborted) err(`${node.name}: ${msg}\n`); };
      for (const r of machines) {
        options.signal?.throwIfAborted();
        const key = machineKey(r.type as MachineSeen['kind'], String(r.node), r.vmid!);
        if (claims.has(key)) continue;
        const read = limit(() => readMachine(client!, r, warn));
        claims.set(key, read);
        mine.push(read);
      }
      await Promise.all(mine);
      options.signal?.throwIfAborted();
      for (const name of online) covered.add(name);
      // This endpoint's result, now: one line per cluster member it answered for, counted from its own listing.
      for (const name of [...online].sort()) {
        if (reported.has(name)) continue;
        reported.add(name);
        const on = machines.filter((r) => String(r.node) === name);
        const registered = nodes.some((n) => n.name === name) ? '' : ' (not registered in Berth)';
        out(`${name}${registered}: ${count(on.filter((r) => r.type === 'lxc').length, 'container')}, ${count(on.filter((r) => r.type === 'qemu').length, 'VM')}\n`);
      }
    } catch (e) {
      if (options.signal?.aborted) throw e;
      const message = describeNodeError(node, e, { prefix: false });
      failedEndpoints.set(node.name, message);
      err(`${node.name}: ${message}\n`);
    } finally {
      await client?.close();
    }
  }

  await Promise.all(readable.map(readNode));
  options.signal?.throwIfAborted();
  const machines = await Promise.all(claims.values());

  // A node is not read when its endpoint failed and no cluster peer answered for it, or when every
  // endpoint that answered reported it offline.
  const failed: SyncReport['failed'] = readable
    .filter((n) => !covered.has(n.name))
    .map((n) => ({ node: n.name, error: failedEndpoints.get(n.name) ?? 'Proxmox reports the node offline (not online in its cluster)' }));
  for (const f of failed) if (!failedEndpoints.has(f.node)) err(`${f.node}: ${f.error}\n`);

  const report = await deps.sequelize.transaction(async (t) => {
    await replaceSnapshots(deps.models, machines, covered, options.jobId ?? null, now, t);
    await recordNodeResults(deps.models, readable, covered, failedEndpoints, now, t);
    return writeDrift(deps.models, machines, nodes.filter((n) => covered.has(n.name)), now, t);
  });
  const leftover = await reportInterruptedCreates(deps.models, machines, nodes.filter((n) => covered.has(n.name)), out);
  await recheckProxmoxUsers(deps, out, err, now);
  out(`${machines.length} machines; ${report.inStep} records in step, ${report.drifted} with field drift, ${report.gone} gone from Proxmox`
    + `${leftover ? `, ${count(leftover, 'leftover')} of interrupted creates (see the drift page)` : ''}\n`);
  const summary = syncSummary(readable.length, failed);
  out(`${summary}\n`);
  return { failed, covered: [...covered].sort(), tried: readable.map((n) => n.name), machines: machines.length, ...report, leftover, summary };
}

/** "complete: 3 nodes read" or "partial: node pve2 not read (…); its records were left as they were". */
export function syncSummary(tried: number, failed: SyncReport['failed']): string {
  if (!failed.length) return `complete: ${count(tried, 'node')} read`;
  const which = failed.map((f) => `node ${f.node} not read (${f.error})`).join('; ');
  if (failed.length === tried) return `failed: ${which}`;
  return `partial: ${tried - failed.length} of ${count(tried, 'node')} read; ${which}. Records on ${failed.length === 1 ? 'that node were' : 'those nodes were'} left as they were (not marked gone).`;
}

/**
 * Each tried node's result: read (`syncedAt`, the error cleared; or kept as the reason its own URL
 * failed when a peer answered for it) or not (`syncFailedAt`, `syncError`). Silent: bookkeeping.
 */
async function recordNodeResults(models: Models, tried: Node[], covered: Set<string>, failedEndpoints: Map<string, string>, now: Date, t: Transaction): Promise<void> {
  for (const node of tried) {
    const endpointError = failedEndpoints.get(node.name) ?? null;
    const read = covered.has(node.name);
    const values = {
      ...(read ? { syncedAt: now } : {}),
      syncFailedAt: read && !endpointError ? null : now,
      syncError: read ? (endpointError ? `read through a cluster peer; its own API URL failed: ${endpointError}` : null) : endpointError ?? 'Proxmox reports the node offline (not online in its cluster)',
    };
    await models.Node.update(values, { where: { id: node.id }, transaction: t, silent: true });
  }
}

/** Each sync also re-reads every Proxmox account's rights (demotes, disables; docs/accounts.md). */
async function recheckProxmoxUsers(deps: SyncDeps, out: (text: string) => void, err: (text: string) => void, now: Date): Promise<void> {
  const auditor = deps.auditor ?? new Auditor(deps.models, null);
  const logger = { warn: (obj: object, msg: string) => err(`${msg}: ${JSON.stringify(obj)}\n`) };
  const done = await new ProxmoxRights({ models: deps.models, sequelize: deps.sequelize, config: deps.config, vault: deps.vault, auditor, logger }).refreshAll(now);
  for (const outcome of ['promoted', 'demoted', 'disabled', 'admin-expired'] as const) {
    for (const name of done[outcome]) out(`Proxmox account ${name}: ${outcome}\n`);
  }
}

/**
 * Replaces the snapshots of the Proxmox nodes this sync read (`covered`), and only those: a node that
 * failed or was offline, a cluster member behind a failed endpoint (registered in Berth or not), and
 * every node outside `nodeIds` keep their last known machines on the drift page.
 */
async function replaceSnapshots(models: Models, machines: MachineSeen[], covered: Set<string>, syncJobId: number | null, seenAt: Date, t: Transaction): Promise<void> {
  if (covered.size) await models.MachineSnapshot.destroy({ where: { node: { [Op.in]: [...covered] } }, transaction: t });
  // Listed by an endpoint that then failed: not covered, its old rows stay, so nothing new either.
  const read = machines.filter((g) => covered.has(g.node));
  if (read.length) await models.MachineSnapshot.bulkCreate(read.map(({ berthContainerId: _marker, ...g }) => ({ ...g, syncJobId, seenAt })), { transaction: t });
}

/**
 * Reports what creates interrupted by a killed runner left (src/provisioning/leftovers.ts): records
 * still `provisioning` after their job ended, and containers carrying Berth's marker for a record
 * that no longer exists. The drift page lists them; nothing is changed here.
 */
async function reportInterruptedCreates(models: Models, machines: MachineSeen[], nodes: Node[], out: (text: string) => void): Promise<number> {
  if (!nodes.length) return 0;
  const nodeName = new Map(nodes.map((n) => [n.id, n.name]));
  const records = await findInterruptedCreates(models, [...nodeName.keys()]);
  for (const r of records) out(`${r.container.hostname}: ${interruptedCreateText(r, nodeName.get(r.container.nodeId!) ?? null)}\n`);
  const marked = machines.filter((m) => m.berthContainerId != null && nodes.some((n) => n.name === m.node));
  const existing = new Set(marked.length ? (await models.Container.findAll({ where: { id: marked.map((m) => m.berthContainerId!) }, attributes: ['id'] })).map((c) => c.id) : []);
  const orphans = marked.filter((m) => !existing.has(m.berthContainerId!));
  for (const m of orphans) out(`CT ${m.vmid} on ${m.node} (${m.name ?? 'no name'}): left over by an interrupted create: it carries Berth's marker for container ${m.berthContainerId}, which has no record\n`);
  return records.length + orphans.length;
}

/**
 * The stored drift of a record the sync did not find: `{ gone: true }` plus when (`missedAt`, the
 * sync that missed it), which pages show beside the last time Proxmox confirmed it (`syncedAt`).
 */
export function goneDriftText(missedAt: Date): string {
  return JSON.stringify({ gone: true, missedAt: missedAt.toISOString() });
}

/**
 * Sets `drift` on the records of covered nodes, and `syncedAt` on those Proxmox confirmed (found):
 * a record the sync did not find keeps the time it was last seen. Returns the counts.
 */
async function writeDrift(models: Models, machines: MachineSeen[], nodes: Node[], now: Date, t: Transaction) {
  const counts = { inStep: 0, drifted: 0, gone: 0 };
  if (!nodes.length) return counts;
  const nodeName = new Map(nodes.map((n) => [n.id, n.name]));
  const machineMap = new Map(machines.map((g) => [machineKey(g.kind, g.node, g.vmid), g]));
  const byVmid = new Map<number, MachineSeen[]>();
  for (const g of machines) byVmid.set(g.vmid, [...(byVmid.get(g.vmid) ?? []), g]);

  for (const kind of KINDS) {
    const model = kind.model(models);
    const where = { nodeId: [...nodeName.keys()], vmid: { [Op.ne]: null } } as WhereOptions;
    const records = (await model.findAll({ where, transaction: t })) as InventoryRecord[];
    const confirmed: number[] = [];
    for (const record of records) {
      const name = nodeName.get(record.nodeId as number)!;
      const machine = findMachine(kind, record, name, machineMap, byVmid);
      if (machine) confirmed.push(record.id);
      // A container being created (or whose create was interrupted: reportInterruptedCreates) is
      // not compared: its status and addresses are the create job's to write.
      const building = UNBUILT_CONTAINER_STATUSES.includes(record.status as string);
      const drift = building ? null : machine ? compareRecord(kind, record, name, machine) : { gone: true as const };
      const text = drift?.gone ? goneDriftText(now) : serialiseDrift(drift);
      if (!drift) counts.inStep++;
      else if (drift.gone) counts.gone++;
      else counts.drifted++;
      // silent: the sync's own bookkeeping must not look like an edit (updatedAt unchanged).
      if (text !== record.drift) await model.update({ drift: text } as never, { where: { id: record.id }, transaction: t, silent: true });
    }
    if (confirmed.length) await model.update({ syncedAt: now } as never, { where: { id: confirmed }, transaction: t, silent: true });
  }
  return counts;
}
