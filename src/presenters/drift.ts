import { Op, type WhereOptions } from 'sequelize';
import type { Models } from '../../models/index.js';
import { DRIFT_BULK_MAX, findUnknownMachines, relinkCandidates, relinkMatcher } from '../inventory/drift-actions.js';
import { kindOfMachine, machineKey, parseDrift } from '../inventory/drift.js';
import { KINDS, recordName, recordVmid, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { knownOwners } from '../inventory/owners.js';
import { SYNC_TASK } from '../jobs/tasks/inventory-sync.js';
import { findInterruptedCreates, interruptedCreateText } from '../provisioning/leftovers.js';
import { presentNodeSync, type NodeSyncView } from './node-sync.js';

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
  /** Gone records: the unknown machine the last sync saw that this record probably is (same MAC, or same name without one). */
  relink?: { ref: string; node: string; vmid: number; name: string | null; by: string; nodeRegistered: boolean } | null;
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
  /** Each node's result in the syncs (Nodes.syncedAt/syncFailedAt/syncError): a partial sync names the node that failed and why. */
  nodeResults: Array<{ id: number; name: string } & NodeSyncView>;
  lastSync: { jobId: number; status: string; createdAt: string; finishedAt: string | null } | null;
  lastSeenAt: string | null;
  unknown: UnknownMachineView[];
  /** Whether `unknown` is every unknown machine (false: the page lists those of the first snapshots only). */
  unknownComplete: boolean;
  gone: DriftRecordView[];
  /** Whether `gone` is every record gone from Proxmox (false: the page lists those of the first records with drift only). */
  goneComplete: boolean;
  drifted: DriftRecordView[];
  /** Left over by interrupted creates (src/provisioning/leftovers.ts). */
  leftovers: LeftoverView[];
  /** Names offered in the import forms' owner field (src/inventory/owners.ts: accounts and pending account requests). */
  usernames: string[];
  /** Most machines or records one bulk action takes (DRIFT_BULK_MAX). */
  bulkMax: number;
}

/**
 * What the person had ticked and typed in the bulk forms, when the page is drawn again after a
 * refusal (nothing is lost): the ticked machines and records, the "all" boxes, the owner.
 */
export interface DriftSelection {
  /** The bulk form that was submitted (its field messages are shown beside its fields). */
  form: 'import' | 'gone' | null;
  machines: Set<string>;
  allMachines: boolean;
  username: string;
  records: Set<string>;
  allRecords: boolean;
}

export const NO_SELECTION: DriftSelection = { form: null, machines: new Set(), allMachines: false, username: '', records: new Set(), allRecords: false };

const refList = (x: unknown): string[] => (Array.isArray(x) ? x : [x]).flatMap((v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : []));
const ticked = (x: unknown) => (Array.isArray(x) ? x : [x]).some((v) => v === '1' || v === 'on' || v === 'true' || v === true);

/** The selection a bulk form (`form`: the unknown machines' or the gone records') submitted (`values`: the request body, valid or not). */
export function driftSelection(form: 'import' | 'gone', values: Record<string, unknown>): DriftSelection {
  const username = typeof values.username === 'string' ? values.username.trim() : '';
  if (form === 'gone') return { ...NO_SELECTION, form, records: new Set(refList(values.records)), allRecords: ticked(values.all) };
  return { ...NO_SELECTION, form, machines: new Set(refList(values.machines)), allMachines: ticked(values.all), username };
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
  const [job, snapshots, { machines: unknownSnaps, complete: unknownComplete }, nodes, usernames, interrupted] = await Promise.all([
    models.Job.findOne({ where: { task: SYNC_TASK }, order: [['id', 'DESC']] }),
    models.MachineSnapshot.findAll({ attributes: ['seenAt'], order: [['seenAt', 'DESC']], limit: 1 }),
    findUnknownMachines(models),
    models.Node.findAll({ attributes: ['id', 'name', 'apiTokenId', 'syncedAt', 'syncFailedAt', 'syncError'], order: [['name', 'ASC']] }),
    knownOwners(models, LIMIT),
    findInterruptedCreates(models),
  ]);
  const nodeNames = new Map(nodes.map((n) => [n.id, n.name]));
  const registered = new Set(nodeNames.values());

  const goneRecords: Array<{ kind: InventoryKind; record: InventoryRecord; view: DriftRecordView }> = [];
  const drifted: DriftRecordView[] = [];
  let goneComplete = true;
  for (const kind of KINDS) {
    // One more than shown: whether the page lists every record with drift of this kind.
    const withDrift = (await kind.model(models).findAll({ where: { drift: { [Op.ne]: null } } as WhereOptions, order: [['id', 'ASC']], limit: LIMIT + 1 })) as InventoryRecord[];
    if (withDrift.length > LIMIT) goneComplete = false;
    for (const r of withDrift.slice(0, LIMIT)) {
      const view = recordView(kind, r, nodeNames);
      if (parseDrift(r.drift)?.gone) goneRecords.push({ kind, record: r, view });
      else if (view.fields.length) drifted.push(view);
    }
  }
  // The re-link offers by the command's rule, over every candidate of these records (not only the machines listed).
  const match = relinkMatcher(await relinkCandidates(models, goneRecords));
  const gone = goneRecords.map(({ kind, record, view }) => {
    const found = match(kind, record);
    view.relink = found
      ? { ref: machineKey(found.machine.kind, found.machine.node, found.machine.vmid), node: found.machine.node, vmid: found.machine.vmid, name: found.machine.name, by: found.by, nodeRegistered: registered.has(found.machine.node) }
      : null;
    return view;
  });

  const unknown = unknownSnaps.map((s) => ({
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
  const lastSeen = snapshots[0]?.seenAt ?? null;
  return {
    nodeResults: nodes.filter((n) => n.apiTokenId).map((n) => ({ id: n.id, name: n.name, ...presentNodeSync(n) })),
    lastSync: job ? { jobId: job.id, status: job.status, createdAt: minute(job.createdAt)!, finishedAt: minute(job.finishedAt) } : null,
    lastSeenAt: minute(lastSeen),
    unknown,
    unknownComplete,
    gone,
    goneComplete,
    drifted,
    leftovers: interrupted.map((c) => {
      const node = c.container.nodeId ? nodeNames.get(c.container.nodeId) ?? null : null;
      return { id: c.container.id, name: c.container.hostname, href: `/containers/${c.container.id}`, node, vmid: c.container.vmid, jobId: c.jobId, text: interruptedCreateText(c, node) };
    }),
    usernames,
    bulkMax: DRIFT_BULK_MAX,
  };
}
