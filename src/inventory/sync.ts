import { Op, type Sequelize, type Transaction, type WhereOptions } from 'sequelize';
import type { Config } from '../../config/index.js';
import { UNBUILT_CONTAINER_STATUSES } from '../../models/Container.js';
import type { Models, Node } from '../../models/index.js';
import type { ClusterResource, ProxmoxClient } from '../lib/proxmox/index.js';
import type { Vault } from '../lib/vault.js';
import { Auditor } from '../audit/index.js';
import { clientForNode } from '../services/nodes.js';
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
  config: Pick<Config, 'PROXMOX_TIMEOUT_MS'> & RightsConfig;
  /** For the Proxmox rights re-check's events; without one they go to AuditEvents only. */
  auditor?: Auditor;
}

export interface SyncOptions {
  /** Progress lines ("pve1: 12 containers, 3 VMs") and per-node errors. */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  signal?: AbortSignal;
  jobId?: number | null;
  /** Only these Berth nodes (default: all). */
  nodeIds?: number[];
  now?: Date;
}

export interface SyncReport {
  /** Berth nodes that could not be read, with the reason. */
  failed: Array<{ node: string; error: string }>;
  /** Proxmox node names whose machines were read (a cluster member answers for its peers). */
  covered: string[];
  machines: number;
  inStep: number;
  drifted: number;
  gone: number;
  /** Left over by an interrupted create: records still `provisioning` after their job, and marked containers without a record. */
  leftover: number;
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Reads one endpoint: the online cluster members it speaks for and the machines on them (templates skipped). */
async function readEndpoint(client: ProxmoxClient): Promise<{ online: string[]; machines: ClusterResource[] }> {
  const [members, resources] = await Promise.all([client.cluster.nodes(), client.cluster.resources('vm')]);
  const online = members.filter((m) => m.status === 'online').map((m) => m.node);
  const machines = resources.filter((r) => (r.type === 'lxc' || r.type === 'qemu') && typeof r.vmid === 'number' && !r.template && online.includes(String(r.node)));
  return { online, machines };
}

/** Reads every node (one failing does not stop the others), then writes snapshots and drift in one transaction. */
export async function syncInventory(deps: SyncDeps, options: SyncOptions = {}): Promise<SyncReport> {
  const out = options.stdout ?? (() => {});
  const err = options.stderr ?? (() => {});
  const now = options.now ?? new Date();
  const nodes = await deps.models.Node.findAll({ where: options.nodeIds ? { id: options.nodeIds } : {}, order: [['name', 'ASC']] });
  const seen = new Map<string, MachineSeen>();
  const covered = new Set<string>();
  const failed: SyncReport['failed'] = [];

  for (const node of nodes) {
    options.signal?.throwIfAborted();
    if (!node.apiTokenId || !node.apiTokenSecret) {
      // Registered for reference only: nothing to read, and nothing of it is reported as gone.
      out(`${node.name}: no API token configured; skipped\n`);
      continue;
    }
    let client: ProxmoxClient | undefined;
    try {
      client = clientForNode(node, deps.vault, deps.config);
      const { online, machines } = await readEndpoint(client);
      for (const name of online) covered.add(name);
      for (const r of machines) {
        const key = machineKey(r.type as MachineSeen['kind'], String(r.node), r.vmid!);
        // Several Berth nodes of one cluster all list the whole cluster: read each machine once.
        if (seen.has(key)) continue;
        seen.set(key, await readMachine(client, r, (msg) => err(`${node.name}: ${msg}\n`)));
      }
    } catch (e) {
      if (options.signal?.aborted) throw e;
      failed.push({ node: node.name, error: (e as Error).message });
      err(`${node.name}: ${(e as Error).message}\n`);
    } finally {
      await client?.close();
    }
  }

  const machines = [...seen.values()];
  for (const name of [...covered].sort()) {
    const on = machines.filter((g) => g.node === name);
    const registered = nodes.some((n) => n.name === name) ? '' : ' (not registered in Berth)';
    out(`${name}${registered}: ${count(on.filter((g) => g.kind === 'lxc').length, 'container')}, ${count(on.filter((g) => g.kind === 'qemu').length, 'VM')}\n`);
  }
  options.signal?.throwIfAborted();

  const report = await deps.sequelize.transaction(async (t) => {
    await replaceSnapshots(deps.models, machines, nodes, covered, failed, options.jobId ?? null, now, t);
    return writeDrift(deps.models, machines, nodes.filter((n) => covered.has(n.name)), now, t);
  });
  const leftover = await reportInterruptedCreates(deps.models, machines, nodes.filter((n) => covered.has(n.name)), out);
  await recheckProxmoxUsers(deps, out, err, now);
  const result: SyncReport = { failed, covered: [...covered].sort(), machines: machines.length, ...report, leftover };
  out(`${result.machines} machines; ${result.inStep} records in step, ${result.drifted} with field drift, ${result.gone} gone from Proxmox`
    + `${leftover ? `, ${count(leftover, 'leftover')} of interrupted creates (see the drift page)` : ''}\n`);
  return result;
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
 * Replaces the snapshots: every row goes except those of nodes that failed and that no other
 * endpoint covered (their last known machines stay on the drift page).
 */
async function replaceSnapshots(models: Models, machines: MachineSeen[], nodes: Node[], covered: Set<string>, failed: SyncReport['failed'], syncJobId: number | null, seenAt: Date, t: Transaction): Promise<void> {
  const keep = failed.map((f) => f.node).filter((name) => !covered.has(name) && nodes.some((n) => n.name === name));
  await models.MachineSnapshot.destroy({ where: keep.length ? { node: { [Op.notIn]: keep } } : {}, transaction: t });
  if (machines.length) await models.MachineSnapshot.bulkCreate(machines.map(({ berthContainerId: _marker, ...g }) => ({ ...g, syncJobId, seenAt })), { transaction: t });
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

/** Sets `drift` and `syncedAt` on the records of covered nodes; returns the counts. */
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
    for (const record of records) {
      const name = nodeName.get(record.nodeId as number)!;
      const machine = findMachine(kind, record, name, machineMap, byVmid);
      // A container being created (or whose create was interrupted: reportInterruptedCreates) is
      // not compared: its status and addresses are the create job's to write.
      const building = UNBUILT_CONTAINER_STATUSES.includes(record.status as string);
      const drift = building ? null : machine ? compareRecord(kind, record, name, machine) : { gone: true as const };
      const text = serialiseDrift(drift);
      if (!drift) counts.inStep++;
      else if (drift.gone) counts.gone++;
      else counts.drifted++;
      // silent: the sync's own bookkeeping must not look like an edit (updatedAt unchanged).
      if (text !== record.drift) await model.update({ drift: text } as never, { where: { id: record.id }, transaction: t, silent: true });
    }
    if (records.length) await model.update({ syncedAt: now } as never, { where: { id: records.map((r) => r.id) }, transaction: t, silent: true });
  }
  return counts;
}
