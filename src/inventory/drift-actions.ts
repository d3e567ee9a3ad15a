import { col, fn, Op, where, type Transaction, type WhereOptions } from 'sequelize';
import { UNBUILT_CONTAINER_STATUSES } from '../../models/Container.js';
import type { ProxmoxType } from '../../models/MachineSnapshot.js';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { normaliseMac } from '../lib/validators.js';
import { compareRecord, kindOfMachine, machineKey, parseDrift, proxmoxValues, serialiseDrift } from './drift.js';
import { KINDS, recordName, recordVmid, type InventoryKind, type InventoryRecord } from './kinds.js';
import { OwnerCheck } from './owners.js';
import { createRecord, deleteRecord, updateRecord, type MayView } from './records.js';
import { createSchema, updateSchema } from './schema.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import type { MachineSnapshot, Models } from '../../models/index.js';
import { requestInventorySyncJob, type SyncRequest } from '../jobs/enqueue-inventory-sync.js';

/**
 * The drift page's actions. Nothing a sync finds changes the inventory by itself: a person imports
 * an unknown machine or accepts Proxmox's values, through the same record commands (validation, clash
 * checks, audit) as the forms.
 */

/**
 * "Sync now" (admins, on the drift page): enqueues an inventory-sync job with its `job.enqueue` event,
 * in one transaction, or answers with the sync already pending or running (`existing`: none is added).
 */
export function requestInventorySync(cmd: CommandContext): Promise<SyncRequest> {
  return inTransaction(cmd, (transaction) => requestInventorySyncJob(cmd, cmd.actor, transaction));
}

async function berthNodeId(cmd: CommandContext, name: string, field: string): Promise<number> {
  const node = await cmd.models.Node.findOne({ where: { name } });
  if (!node) throw new ValidationError(`Node ${name} is not registered in Berth; register it first.`, { [field]: `Register node ${name} in Berth first.` });
  return node.id;
}

/** A machine of the last sync, as the drift page and the API name it. */
export interface MachineRef {
  kind: ProxmoxType;
  node: string;
  vmid: number;
}

/** A container or VM record, as the drift page and the API name it. */
export interface RecordRef {
  kind: InventoryKind['key'];
  id: number;
}

/** One machine or record a bulk action could not take, and why (nothing was written). */
export interface Refusal {
  /** `lxc/pve1/101` or `container/12`. */
  ref: string;
  /** What people read: the machine's or record's name, or the ref. */
  name: string;
  error: string;
  fields: Record<string, string>;
  /** This refusal's own status (422 invalid input, 409 a clash or a change since the page was drawn). */
  status: number;
}

/**
 * A bulk drift action refused one or more of its machines or records: the transaction rolled back,
 * so nothing was written. 422 when any refusal is invalid input (an unregistered node, a name Berth
 * refuses), 409 when all are clashes or records that changed since the page was drawn.
 */
export class BulkRefusedError extends AppError {
  override readonly status: number;
  constructor(
    message: string,
    readonly refused: Refusal[],
  ) {
    super(message);
    this.status = refused.some((r) => r.status === 422) ? 422 : 409;
  }
}

/** The refusal for `err` (an AppError below 500), or the error itself to rethrow. */
function refusalOf(ref: string, name: string, err: unknown): Refusal {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  return { ref, name, error: err.message, fields: err.fields ?? {}, status: err.status === 404 ? 409 : err.status };
}

const refused = (refusals: Refusal[], what: string): never => {
  throw new BulkRefusedError(`${refusals.length} of the selected ${what} cannot be done; nothing was changed.`, refusals);
};

/** The fields of a record for the machine `snap`, validated by the forms' rules (a name Berth refuses is a 422). */
function machineFields(kind: InventoryKind, snap: MachineSnapshot, nodeId: number, username: string | null | undefined) {
  const raw: Record<string, unknown> = {
    [kind.nameField]: snap.name ?? '',
    [kind.vmidKey]: snap.vmid,
    [kind.osField]: snap.osName ?? undefined,
    nodeId,
    macAddress: snap.macAddress ?? undefined,
    ipv4Address: snap.ipv4Address ?? undefined,
    status: snap.status && kind.statuses.includes(snap.status) ? snap.status : undefined,
    username: username ?? undefined,
  };
  // Proxmox's values meet Berth's rules here: a name Berth refuses is reported, not stored.
  return { ...parseInput(createSchema(kind), raw), syncedAt: snap.seenAt };
}

/** Creates the record for a machine of the last sync (`kind` lxc|qemu on Proxmox node `node`), owned by `username`. */
export async function importMachine(cmd: CommandContext, input: MachineRef & { username?: string | null }, mayView?: MayView): Promise<{ kind: InventoryKind; record: InventoryRecord }> {
  const snap = await cmd.models.MachineSnapshot.findOne({ where: { kind: input.kind, node: input.node, vmid: input.vmid } });
  if (!snap) throw new NotFoundError(`The last sync saw no ${input.kind === 'lxc' ? 'container' : 'VM'} ${input.vmid} on ${input.node}.`);
  const kind = kindOfMachine(snap.kind);
  const fields = machineFields(kind, snap, await berthNodeId(cmd, snap.node, 'node'), input.username);
  const record = await createRecord(cmd, kind, fields, { mayView });
  return { kind, record };
}

/**
 * Of `snapshots`, the machines no record stands for, in one query per kind: a record stands for the
 * machine at its (node, VMID), and a record whose machine moved stands for it on its new node too.
 */
export async function unknownAmong<T extends Pick<MachineSnapshot, 'kind' | 'node' | 'vmid'>>(models: Models, snapshots: T[], transaction?: Transaction): Promise<T[]> {
  if (!snapshots.length) return [];
  const nodes = await models.Node.findAll({ attributes: ['id', 'name'], transaction });
  const nodeNames = new Map(nodes.map((n) => [n.id, n.name]));
  const known = new Set<string>();
  for (const kind of KINDS) {
    const vmids = [...new Set(snapshots.filter((s) => kindOfMachine(s.kind) === kind).map((s) => s.vmid))];
    if (!vmids.length) continue;
    for (const r of (await kind.model(models).findAll({ where: { vmid: vmids } as WhereOptions, transaction })) as InventoryRecord[]) {
      const vmid = recordVmid(r)!;
      if (r.nodeId) known.add(machineKey(kind.proxmoxType, nodeNames.get(r.nodeId) ?? '', vmid));
      const moved = parseDrift(r.drift)?.fields?.nodeId?.proxmox;
      if (typeof moved === 'string') known.add(machineKey(kind.proxmoxType, moved, vmid));
    }
  }
  return snapshots.filter((s) => !known.has(machineKey(s.kind, s.node, s.vmid)));
}

/** Most snapshots the drift page reads to list unknown machines (the page says when there are more). */
export const DRIFT_PAGE_MACHINES = 5000;

/**
 * The drift page's "unknown" list: the machines of the last sync that no record stands for, among
 * the first DRIFT_PAGE_MACHINES snapshots (`complete` is false when there are more). Only for
 * drawing the page: the commands read what they act on (importableMachines, relinkCandidates).
 */
export async function findUnknownMachines(models: Models, transaction?: Transaction): Promise<{ machines: MachineSnapshot[]; complete: boolean }> {
  const snapshots = await models.MachineSnapshot.findAll({ order: [['node', 'ASC'], ['vmid', 'ASC']], limit: DRIFT_PAGE_MACHINES + 1, transaction });
  const complete = snapshots.length <= DRIFT_PAGE_MACHINES;
  return { machines: await unknownAmong(models, complete ? snapshots : snapshots.slice(0, DRIFT_PAGE_MACHINES), transaction), complete };
}

/**
 * The unknown machines of the last sync that could be re-linked to `records` (same kind, and the
 * record's MAC address, normalised, or without one its name, any case), read by those MACs and names
 * rather than the whole table, so relinkMatcher over them sees every candidate of every record.
 */
export async function relinkCandidates(models: Models, records: Array<{ kind: InventoryKind; record: InventoryRecord }>, transaction?: Transaction): Promise<MachineSnapshot[]> {
  const macs = [...new Set(records.filter((r) => r.record.macAddress).map((r) => normaliseMac(r.record.macAddress!)))];
  const names = [...new Set(records.filter((r) => !r.record.macAddress).map((r) => recordName(r.kind, r.record).toLowerCase()))];
  const types = [...new Set(records.map((r) => r.kind.proxmoxType))];
  if (!types.length || (!macs.length && !names.length)) return [];
  const or: WhereOptions[] = [];
  // In chunks: a long IN list stays well under both databases' statement limits.
  const chunks = <T>(xs: T[]) => Array.from({ length: Math.ceil(xs.length / 500) }, (_, i) => xs.slice(i * 500, i * 500 + 500));
  for (const chunk of chunks(macs)) or.push(where(fn('lower', fn('replace', col('macAddress'), '-', ':')), { [Op.in]: chunk }));
  for (const chunk of chunks(names)) or.push(where(fn('lower', col('name')), { [Op.in]: chunk }));
  const found = await models.MachineSnapshot.findAll({ where: { kind: types, [Op.or]: or } as WhereOptions, order: [['node', 'ASC'], ['vmid', 'ASC']], transaction });
  return unknownAmong(models, found, transaction);
}

/**
 * Most machines or records one bulk drift action takes. Each action is one transaction, and on
 * SQLite a transaction holds the write lock until it commits: a larger one would keep other writers
 * waiting past their busy timeout.
 */
export const DRIFT_BULK_MAX = 1000;

/** The 422 for a selection over DRIFT_BULK_MAX, naming the count and the limit. */
export function bulkLimitError(count: number, what: 'machines' | 'records', field: string): ValidationError {
  const message = `${count} ${what} selected: at most ${DRIFT_BULK_MAX} are taken at a time. Narrow the selection (for example, tick the ${what} of one node) and do the rest in a second pass.`;
  return new ValidationError(message, { [field]: message });
}

/**
 * The unknown machines of the last sync that can be imported (their node is registered in Berth):
 * what "all" imports, every one of them. Counted first, on the machines' keys alone: above
 * DRIFT_BULK_MAX this is the 422 naming the count (field `all`), and none is loaded.
 */
export async function importableMachines(models: Models, transaction?: Transaction): Promise<MachineSnapshot[]> {
  const nodes = await models.Node.findAll({ attributes: ['name'], transaction });
  const keys = await models.MachineSnapshot.findAll({ attributes: ['id', 'kind', 'node', 'vmid'], where: { node: nodes.map((n) => n.name) }, transaction });
  const unknown = await unknownAmong(models, keys, transaction);
  if (unknown.length > DRIFT_BULK_MAX) throw bulkLimitError(unknown.length, 'machines', 'all');
  if (!unknown.length) return [];
  return models.MachineSnapshot.findAll({ where: { id: unknown.map((s) => s.id) }, order: [['node', 'ASC'], ['vmid', 'ASC']], transaction });
}

/** The machines `refs` names that the last sync saw (any of them may be missing), in one query. */
export async function namedMachines(models: Models, refs: MachineRef[], transaction?: Transaction): Promise<MachineSnapshot[]> {
  if (!refs.length) return [];
  const wanted = new Set(refs.map((m) => machineKey(m.kind, m.node, m.vmid)));
  const found = await models.MachineSnapshot.findAll({
    where: { node: [...new Set(refs.map((m) => m.node))], vmid: [...new Set(refs.map((m) => m.vmid))] },
    order: [['node', 'ASC'], ['vmid', 'ASC']],
    transaction,
  });
  return found.filter((s) => wanted.has(machineKey(s.kind, s.node, s.vmid)));
}

const machineRef = (m: MachineRef) => machineKey(m.kind, m.node, m.vmid);
const machineLabel = (m: MachineRef) => `${m.kind === 'lxc' ? 'CT' : 'VM'} ${m.vmid} on ${m.node}`;

/**
 * Imports several machines of the last sync (or, with `'all'`, every unknown machine on a node
 * registered in Berth; at most DRIFT_BULK_MAX, else a 422) with one owner, in ONE transaction: each through createRecord (the forms'
 * validation and clash checks, one `<kind>.create` event per record). All or nothing: an owner the
 * owner rule refuses is a 422 on `username` before anything is read; any machine that cannot be
 * imported (gone since the page was drawn, unregistered node, a name Berth refuses, a clash with a
 * record or with another selected machine) is listed in a BulkRefusedError and nothing is written.
 */
export async function importMachines(cmd: CommandContext, input: { machines: MachineRef[] | 'all'; username?: string | null }, mayView?: MayView): Promise<Array<{ kind: InventoryKind; record: InventoryRecord }>> {
  const owners = new OwnerCheck(cmd.models, 'admin');
  if (input.username) {
    const refusal = await owners.refusal(input.username);
    if (refusal) throw new ValidationError('Please correct the highlighted fields.', { username: refusal });
  }
  return inTransaction(cmd, async (t) => {
    const nodes = await cmd.models.Node.findAll({ attributes: ['id', 'name'], transaction: t });
    const nodeId = new Map(nodes.map((n) => [n.name, n.id]));
    const refusals: Refusal[] = [];
    let snaps: MachineSnapshot[];
    if (input.machines === 'all') {
      snaps = await importableMachines(cmd.models, t);
      if (!snaps.length) throw new ValidationError('There is no unknown machine on a registered node to import.');
    } else {
      if (input.machines.length > DRIFT_BULK_MAX) throw bulkLimitError(input.machines.length, 'machines', 'machines');
      const wanted = new Map(input.machines.map((m) => [machineRef(m), m]));
      snaps = await namedMachines(cmd.models, input.machines, t);
      const seen = new Set(snaps.map(machineRef));
      for (const [ref, m] of wanted) {
        if (!seen.has(ref)) refusals.push({ ref, name: machineLabel(m), error: `The last sync saw no ${m.kind === 'lxc' ? 'container' : 'VM'} ${m.vmid} on ${m.node}.`, fields: {}, status: 409 });
      }
    }
    const imported: Array<{ kind: InventoryKind; record: InventoryRecord }> = [];
    for (const snap of snaps) {
      const kind = kindOfMachine(snap.kind);
      const name = snap.name ?? machineLabel(snap);
      try {
        const id = nodeId.get(snap.node);
        if (id === undefined) throw new ValidationError(`Node ${snap.node} is not registered in Berth; register it first.`, { node: `Register node ${snap.node} in Berth first.` });
        // Later machines are checked against the ones created before them (same transaction), so
        // two selected machines with one name are reported too.
        const record = await createRecord(cmd, kind, machineFields(kind, snap, id, input.username), { transaction: t, mayView, owners });
        imported.push({ kind, record });
      } catch (err) {
        refusals.push(refusalOf(machineRef(snap), name, err));
      }
    }
    if (refusals.length) refused(refusals, 'machines');
    return imported;
  });
}

/** Loads the records `refs` names, in one query per kind; a missing one, or one not gone, is a refusal. */
export async function loadGoneRecords(models: Models, refs: RecordRef[], t: Transaction | undefined, refusals: Refusal[]) {
  const out: Array<{ kind: InventoryKind; record: InventoryRecord; ref: string }> = [];
  for (const kind of KINDS) {
    const ids = [...new Set(refs.filter((r) => r.kind === kind.key).map((r) => r.id))];
    if (!ids.length) continue;
    const rows = new Map(((await kind.model(models).findAll({ where: { id: ids } as WhereOptions, order: [['id', 'ASC']], transaction: t })) as InventoryRecord[]).map((r) => [r.id, r]));
    for (const id of ids) {
      const record = rows.get(id);
      const ref = `${kind.key}/${id}`;
      if (!record) refusals.push({ ref, name: `${kind.label} #${id}`, error: `No such ${kind.label} (deleted since the page was drawn?).`, fields: {}, status: 409 });
      else if (!parseDrift(record.drift)?.gone) refusals.push({ ref, name: recordName(kind, record), error: `${recordName(kind, record)} is not gone from Proxmox (the last sync found it).`, fields: {}, status: 409 });
      else out.push({ kind, record, ref });
    }
  }
  return out;
}

/**
 * The records the last sync marked gone (what "all" forgets), or, for `'relink'`, those of them
 * with a match in the last sync (relinkMatcher over relinkCandidates): every one, not only the ones
 * the drift page lists.
 */
export async function goneRecords(models: Models, what: 'forget' | 'relink'): Promise<RecordRef[]> {
  const gone: Array<{ kind: InventoryKind; record: InventoryRecord }> = [];
  for (const kind of KINDS) {
    const rows = (await kind.model(models).findAll({ where: { drift: { [Op.ne]: null } } as WhereOptions, order: [['id', 'ASC']] })) as InventoryRecord[];
    for (const record of rows) if (parseDrift(record.drift)?.gone) gone.push({ kind, record });
  }
  const match = what === 'relink' ? relinkMatcher(await relinkCandidates(models, gone)) : null;
  return gone.filter(({ kind, record }) => !match || match(kind, record)).map(({ kind, record }) => ({ kind: kind.key, id: record.id }));
}

/**
 * "Forget": deletes the Berth records of machines gone from Proxmox, through deleteRecord (the
 * record page's delete: credentials and services go, one `<kind>.delete` event per record keeps
 * what it was; the audit history stays), in ONE transaction. Only records the last sync marked
 * gone; a container still being built or deleted is refused. All or nothing.
 */
export async function forgetGone(cmd: CommandContext, refs: RecordRef[]): Promise<Array<{ kind: InventoryKind; id: number; name: string }>> {
  if (refs.length > DRIFT_BULK_MAX) throw bulkLimitError(refs.length, 'records', 'records');
  return inTransaction(cmd, async (t) => {
    const refusals: Refusal[] = [];
    const records = await loadGoneRecords(cmd.models, refs, t, refusals);
    const done: Array<{ kind: InventoryKind; id: number; name: string }> = [];
    for (const { kind, record, ref } of records) {
      const name = recordName(kind, record);
      try {
        if (kind.key === 'container' && UNBUILT_CONTAINER_STATUSES.includes(record.status as never)) throw new ConflictError(`${name} is ${record.status}; it can be forgotten once that is over.`);
        await deleteRecord(cmd, kind, record, { transaction: t });
        done.push({ kind, id: record.id, name });
      } catch (err) {
        refusals.push(refusalOf(ref, name, err));
      }
    }
    if (refusals.length) refused(refusals, 'records');
    return done;
  });
}

/** A machine the last sync saw that a gone record probably stands for, and how it was matched. */
export interface RelinkMatch {
  machine: MachineSnapshot;
  by: 'MAC address' | 'name';
}

/**
 * The re-link rule, in one place for the drift page and the command: a gone record matches the
 * unknown machine of the same kind with its MAC address, or, when the record has no MAC, its name
 * (case-insensitive). Only a single match counts: two candidates offer none. The unknown machines
 * are indexed once (by kind and normalised MAC, and by kind and name), so matching N records is
 * linear, not N × machines.
 */
export function relinkMatcher(unknown: MachineSnapshot[]): (kind: InventoryKind, record: InventoryRecord) => RelinkMatch | null {
  const byMac = new Map<string, MachineSnapshot[]>();
  const byName = new Map<string, MachineSnapshot[]>();
  const add = (map: Map<string, MachineSnapshot[]>, key: string, s: MachineSnapshot) => {
    const list = map.get(key);
    if (list) list.push(s);
    else map.set(key, [s]);
  };
  for (const s of unknown) {
    if (s.macAddress) add(byMac, `${s.kind} ${normaliseMac(s.macAddress)}`, s);
    if (s.name) add(byName, `${s.kind} ${s.name.toLowerCase()}`, s);
  }
  return (kind, record) => {
    const hits = record.macAddress ? byMac.get(`${kind.proxmoxType} ${normaliseMac(record.macAddress)}`) : byName.get(`${kind.proxmoxType} ${recordName(kind, record).toLowerCase()}`);
    if (hits?.length !== 1) return null;
    return { machine: hits[0], by: record.macAddress ? 'MAC address' : 'name' };
  };
}

/**
 * "Re-link": points gone records at the machine the last sync saw elsewhere (relinkMatch): node and
 * VMID through updateRecord (validation, clash checks), audited `<kind>.sync-relink`; the record's
 * drift is then what differs from that machine (status, address…), so nothing is hidden. ONE
 * transaction, all or nothing; two records matching one machine are refused.
 */
export async function relinkGone(cmd: CommandContext, refs: RecordRef[], mayView?: MayView): Promise<Array<{ kind: InventoryKind; record: InventoryRecord; node: string; vmid: number }>> {
  if (refs.length > DRIFT_BULK_MAX) throw bulkLimitError(refs.length, 'records', 'records');
  return inTransaction(cmd, async (t) => {
    const refusals: Refusal[] = [];
    const records = await loadGoneRecords(cmd.models, refs, t, refusals);
    const match = relinkMatcher(await relinkCandidates(cmd.models, records, t));
    const nodes = await cmd.models.Node.findAll({ attributes: ['id', 'name'], transaction: t });
    const nodeId = new Map(nodes.map((n) => [n.name, n.id]));
    const taken = new Set<string>();
    const done: Array<{ kind: InventoryKind; record: InventoryRecord; node: string; vmid: number }> = [];
    for (const { kind, record, ref } of records) {
      const name = recordName(kind, record);
      try {
        const found = match(kind, record);
        if (!found) throw new ConflictError(`The last sync saw no single unknown ${kind.label} with ${record.macAddress ? `the MAC address ${record.macAddress}` : `the name ${name}`}.`);
        const { machine } = found;
        const id = nodeId.get(machine.node);
        if (id === undefined) throw new ValidationError(`Node ${machine.node} is not registered in Berth; register it first.`, { node: `Register node ${machine.node} in Berth first.` });
        if (taken.has(machineRef(machine))) throw new ConflictError(`${machineLabel(machine)} is already chosen for another selected record.`);
        taken.add(machineRef(machine));
        const fields = parseInput(updateSchema(kind), { nodeId: id, [kind.vmidKey]: machine.vmid });
        const action = `${kind.key}.sync-relink`;
        await updateRecord(cmd, kind, record, fields, { transaction: t, action, mayView });
        const drift = serialiseDrift(compareRecord(kind, record, machine.node, machine));
        await kind.model(cmd.models).update({ drift, syncedAt: machine.seenAt } as never, { where: { id: record.id } as WhereOptions, transaction: t, silent: true });
        done.push({ kind, record, node: machine.node, vmid: machine.vmid });
      } catch (err) {
        refusals.push(refusalOf(ref, name, err));
      }
    }
    if (refusals.length) refused(refusals, 'records');
    return done;
  });
}

/**
 * Writes Proxmox's values of every drifted field into the record (audited as `<kind>.sync-accept`)
 * and clears its drift, in one transaction.
 */
export async function acceptDrift(cmd: CommandContext, kind: InventoryKind, id: number, mayView?: MayView): Promise<{ record: InventoryRecord; changes: Record<string, unknown> }> {
  const record = (await kind.model(cmd.models).findByPk(id)) as InventoryRecord | null;
  if (!record) throw new NotFoundError(`No such ${kind.label}.`);
  const drift = parseDrift(record.drift);
  if (!drift?.fields || !Object.keys(drift.fields).length) {
    throw new ConflictError(drift?.gone ? `${recordName(kind, record)} is gone from Proxmox: there are no values to accept (delete the record if it is no longer needed).` : `${recordName(kind, record)} has no drift to accept.`);
  }
  const values = proxmoxValues(drift);
  if (typeof values.nodeId === 'string') values.nodeId = await berthNodeId(cmd, values.nodeId, 'nodeId');
  const fields = parseInput(updateSchema(kind), values);
  const action = `${kind.key}.sync-accept`;
  return inTransaction(cmd, async (t) => {
    const result = await updateRecord(cmd, kind, record, fields, { transaction: t, action, mayView });
    if (!Object.keys(result.changes).length) {
      // Berth already holds these values (edited since the sync): the action is still recorded.
      await cmd.auditor.record(cmd.actor, { action, objectType: kind.key, objectId: record.id, objectLabel: recordName(kind, record), changes: { drift: { before: record.drift, after: null } } }, t);
    }
    await kind.model(cmd.models).update({ drift: null } as never, { where: { id: record.id } as WhereOptions, transaction: t, silent: true });
    (record as { drift: string | null }).drift = null;
    return { record, changes: result.changes };
  });
}
