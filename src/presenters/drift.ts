import { Op, type WhereOptions } from 'sequelize';
import type { Models } from '../../models/index.js';
import { kindOfMachine, machineKey, parseDrift } from '../inventory/drift.js';
import { KINDS, recordName, recordVmid, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { SYNC_TASK } from '../jobs/tasks/inventory-sync.js';
import { findInterruptedCreates, interruptedCreateText } from '../provisioning/leftovers.js';

/** A machine Proxmox has and Berth does not: a row with an import form. */
export interface UnknownMachineView {
  kind: 'lxc' | 'qemu';
  kindLabel: string;
  node: string;
  /** Whether the node is registered in Berth (an import needs it). */
  nodeRegistered: boolean;
  vmid: number;
  name: string | null;
  status: string | null;
  ipv4Address: string | null;
  macAddress: string | null;
}

export interface DriftRecordView {
  kind: 'container' | 'vm';
  kindLabel: string;
  id: number;
  name: string;
  href: string;
  node: string | null;
  vmid: number | null;
  fields: Array<{ field: string; label: string; berth: string; proxmox: string }>;
}

/** A record left `provisioning` by a create whose runner was killed: a row with a clean-up action. */
export interface LeftoverView {
  id: number;
  name: string;
  href: string;
  node: string | null;
  vmid: number | null;
  jobId: number | null;
  text: string;
}

export interface DriftPageView {
  lastSync: { jobId: number; status: string; createdAt: string; finishedAt: string | null } | null;
  lastSeenAt: string | null;
  unknown: UnknownMachineView[];
  gone: DriftRecordView[];
  drifted: DriftRecordView[];
  /** Left over by interrupted creates (src/provisioning/leftovers.ts). */
  leftovers: LeftoverView[];
  /** Usernames offered in the import form's owner field. */
  usernames: string[];
}

const LABELS: Record<string, string> = { nodeId: 'Node', status: 'Status', macAddress: 'MAC address', ipv4Address: 'IPv4 address', hostname: 'Hostname', name: 'Name' };
const LIMIT = 1000;
const minute = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : null);
const text = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : String(v));

function recordView(kind: InventoryKind, record: InventoryRecord, nodeNames: Map<number, string>): DriftRecordView {
  const drift = parseDrift(record.drift);
  return {
    kind: kind.key,
    kindLabel: kind.label,
    id: record.id,
    name: recordName(kind, record),
    href: `${kind.basePath}/${record.id}`,
    node: record.nodeId ? nodeNames.get(record.nodeId) ?? null : null,
    vmid: recordVmid(record),
    fields: Object.entries(drift?.fields ?? {}).map(([field, pair]) => ({ field, label: LABELS[field] ?? field, berth: text(pair.berth), proxmox: text(pair.proxmox) })),
  };
}

/**
 * Everything the drift page shows, in a constant number of queries: the last sync, the machines no
 * record stands for, the records gone from Proxmox and those whose fields differ.
 */
export async function loadDriftPage(models: Models): Promise<DriftPageView> {
  const [job, snapshots, nodes, users, interrupted] = await Promise.all([
    models.Job.findOne({ where: { task: SYNC_TASK }, order: [['id', 'DESC']] }),
    models.MachineSnapshot.findAll({ order: [['node', 'ASC'], ['vmid', 'ASC']], limit: 5000 }),
    models.Node.findAll({ attributes: ['id', 'name'] }),
    models.User.findAll({ attributes: ['username'], where: { disabled: false }, order: [['username', 'ASC']], limit: LIMIT }),
    findInterruptedCreates(models),
  ]);
  const nodeNames = new Map(nodes.map((n) => [n.id, n.name]));
  const registered = new Set(nodeNames.values());

  const known = new Set<string>();
  const gone: DriftRecordView[] = [];
  const drifted: DriftRecordView[] = [];
  for (const kind of KINDS) {
    const vmids = snapshots.filter((s) => kindOfMachine(s.kind) === kind).map((s) => s.vmid);
    const [matching, withDrift] = await Promise.all([
      vmids.length ? kind.model(models).findAll({ where: { vmid: [...new Set(vmids)] } as WhereOptions }) : Promise.resolve([]),
      kind.model(models).findAll({ where: { drift: { [Op.ne]: null } } as WhereOptions, order: [['id', 'ASC']], limit: LIMIT }),
    ]);
    for (const r of matching as InventoryRecord[]) {
      const vmid = recordVmid(r)!;
      if (r.nodeId) known.add(machineKey(kind.proxmoxType, nodeNames.get(r.nodeId) ?? '', vmid));
      // A record whose machine moved stands for the machine on its new node.
      const moved = parseDrift(r.drift)?.fields?.nodeId?.proxmox;
      if (typeof moved === 'string') known.add(machineKey(kind.proxmoxType, moved, vmid));
    }
    for (const r of withDrift as InventoryRecord[]) {
      const view = recordView(kind, r, nodeNames);
      if (parseDrift(r.drift)?.gone) gone.push(view);
      else if (view.fields.length) drifted.push(view);
    }
  }

  const unknown = snapshots
    .filter((s) => !known.has(machineKey(s.kind, s.node, s.vmid)))
    .map((s) => ({
      kind: s.kind,
      kindLabel: kindOfMachine(s.kind).label,
      node: s.node,
      nodeRegistered: registered.has(s.node),
      vmid: s.vmid,
      name: s.name,
      status: s.status,
      ipv4Address: s.ipv4Address,
      macAddress: s.macAddress,
    }));
  const lastSeen = snapshots.reduce<Date | null>((max, s) => (!max || s.seenAt > max ? s.seenAt : max), null);
  return {
    lastSync: job ? { jobId: job.id, status: job.status, createdAt: minute(job.createdAt)!, finishedAt: minute(job.finishedAt) } : null,
    lastSeenAt: minute(lastSeen),
    unknown,
    gone,
    drifted,
    leftovers: interrupted.map((c) => {
      const node = c.container.nodeId ? nodeNames.get(c.container.nodeId) ?? null : null;
      return { id: c.container.id, name: c.container.hostname, href: `/containers/${c.container.id}`, node, vmid: c.container.vmid, jobId: c.jobId, text: interruptedCreateText(c, node) };
    }),
    usernames: users.map((u) => u.username),
  };
}
