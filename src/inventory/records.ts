import { Op, UniqueConstraintError, type Model, type Sequelize, type Transaction, type WhereOptions } from 'sequelize';
import type { Models } from '../../models/index.js';
import type { AuditActor, Auditor } from '../audit/index.js';
import { changedFields } from '../audit/index.js';
import { ConflictError, ValidationError } from '../lib/errors.js';
import { canViewRecord, type Viewer } from '../policies/inventory.js';
import { KINDS, recordName, type InventoryKind, type InventoryRecord } from './kinds.js';
import type { RecordFields } from './schema.js';

/** What record writes need: the models, a transaction to write in, and the audit trail. */
export interface InventoryDeps {
  models: Models;
  sequelize: Sequelize;
  auditor: Auditor;
}

interface WriteOptions {
  /** Write inside this transaction (CSV import, bulk edit) instead of a new one. */
  transaction?: Transaction;
  /**
   * Who asked for the write: a clash names the record in the way only when they may see it
   * (owner or admin). Without a viewer the message only says the value is taken.
   */
  viewer?: Viewer;
}

const FIELD_WORDS: Record<string, string> = { macAddress: 'MAC address', ipv4Address: 'IP address' };

/**
 * "The IP address 10.0.0.5 is already taken." — naming the record that holds it only for a viewer
 * who may see that record, so a clash never tells a user what another user's records are called.
 */
export function valueTakenMessage(viewer: Viewer | undefined, field: 'macAddress' | 'ipv4Address', value: string, holderKind: InventoryKind, holder: InventoryRecord): string {
  if (canViewRecord(viewer, holder)) return `${recordName(holderKind, holder)} (${holderKind.label}) already has the ${FIELD_WORDS[field]} ${value}.`;
  return `The ${FIELD_WORDS[field]} ${value} is already taken.`;
}

/** "VMID 101 on that node is already taken.", with the same naming rule as valueTakenMessage. */
export function vmidTakenMessage(viewer: Viewer | undefined, kind: InventoryKind, vmid: number, holder: InventoryRecord): string {
  if (canViewRecord(viewer, holder)) return `VMID ${vmid} on that node is already ${recordName(kind, holder)}.`;
  return `VMID ${vmid} on that node is already taken.`;
}

/**
 * Field errors for every unique value `fields` would clash on (name; MAC and IP in either table, since
 * a container and a VM cannot share an address; VMID on the same node), naming the record that holds
 * it when `viewer` may see it. Checked before writing so the form can say what is in the way; the
 * unique indexes still decide under a race (mapped to the same 409).
 */
export async function findClashes(models: Models, kind: InventoryKind, fields: RecordFields, excludeId: number | null, transaction?: Transaction, viewer?: Viewer): Promise<Record<string, string>> {
  const errors: Record<string, string> = {};
  const notSelf = (k: InventoryKind) => (excludeId !== null && k === kind ? { id: { [Op.ne]: excludeId } } : {});
  const name = fields[kind.nameField];
  if (typeof name === 'string') {
    const other = await kind.model(models).findOne({ where: { [kind.nameField]: name, ...notSelf(kind) } as WhereOptions, transaction });
    if (other) errors[kind.nameField] = `Another ${kind.label} is already called ${name}.`;
  }
  for (const field of ['macAddress', 'ipv4Address'] as const) {
    const value = fields[field];
    if (typeof value !== 'string') continue;
    for (const k of KINDS) {
      const other = await k.model(models).findOne({ where: { [field]: value, ...notSelf(k) } as WhereOptions, transaction });
      if (other) errors[field] ??= valueTakenMessage(viewer, field, value, k, other);
    }
  }
  const vmid = fields[kind.vmidField];
  const nodeId = fields.nodeId;
  if (typeof vmid === 'number' && typeof nodeId === 'number') {
    const other = await kind.model(models).findOne({ where: { nodeId, [kind.vmidField]: vmid, ...notSelf(kind) } as WhereOptions, transaction });
    if (other) errors[kind.vmidField] = vmidTakenMessage(viewer, kind, vmid, other);
  }
  return errors;
}

async function checkNode(models: Models, fields: RecordFields, transaction?: Transaction): Promise<void> {
  if (typeof fields.nodeId !== 'number') return;
  if (!(await models.Node.findByPk(fields.nodeId, { transaction }))) throw new ValidationError('Please correct the highlighted fields.', { nodeId: 'No such node.' });
}

async function inTransaction<T>(deps: InventoryDeps, options: WriteOptions, work: (t: Transaction) => Promise<T>): Promise<T> {
  try {
    if (options.transaction) return await work(options.transaction);
    return await deps.sequelize.transaction(work);
  } catch (err) {
    // A clash that slipped between the check and the write (two requests at once).
    if (err instanceof UniqueConstraintError) throw new ConflictError('That value is already taken by another record.', uniqueFields(err));
    throw err;
  }
}

function uniqueFields(err: UniqueConstraintError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const item of err.errors) if (item.path) fields[item.path] = 'is already taken by another record';
  return fields;
}

async function assertNoClash(deps: InventoryDeps, kind: InventoryKind, merged: RecordFields, changed: RecordFields, excludeId: number | null, t: Transaction, viewer: Viewer | undefined): Promise<void> {
  // Only values being written can clash; a VMID clash needs the final (node, VMID) pair.
  const probe: RecordFields = { ...changed };
  if (kind.vmidField in changed || 'nodeId' in changed) {
    probe[kind.vmidField] = merged[kind.vmidField];
    probe.nodeId = merged.nodeId;
  }
  const clashes = await findClashes(deps.models, kind, probe, excludeId, t, viewer);
  if (Object.keys(clashes).length) throw new ConflictError(`That ${kind.label} clashes with an existing record.`, clashes);
}

/** Creates a record and its audit event in one transaction. */
export async function createRecord(deps: InventoryDeps, kind: InventoryKind, fields: RecordFields, actor: AuditActor, options: WriteOptions = {}): Promise<InventoryRecord> {
  return inTransaction(deps, options, async (t) => {
    await checkNode(deps.models, fields, t);
    await assertNoClash(deps, kind, fields, fields, null, t, options.viewer);
    const record = await kind.model(deps.models).create(fields as never, { transaction: t });
    await deps.auditor.record(
      actor,
      { action: `${kind.key}.create`, objectType: kind.key, objectId: record.id, objectLabel: recordName(kind, record), changes: changedFields(null, record.get(), kind.editable) },
      t,
    );
    return record;
  });
}

/**
 * Applies `fields` (absent: unchanged, null: cleared) and audits the changed fields. Returns the
 * changes; nothing is written (nor audited) when nothing changed.
 */
export async function updateRecord(deps: InventoryDeps, kind: InventoryKind, record: InventoryRecord, fields: RecordFields, actor: AuditActor, options: WriteOptions & { action?: string } = {}) {
  return inTransaction(deps, options, async (t) => {
    const before = { ...record.get() } as RecordFields;
    const changed: RecordFields = {};
    for (const [k, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const current = before[k] instanceof Date ? (before[k] as Date).toISOString() : before[k];
      if (current !== value) changed[k] = value;
    }
    if (!Object.keys(changed).length) return { record, changes: {} };
    await checkNode(deps.models, changed, t);
    await assertNoClash(deps, kind, { ...before, ...changed }, changed, record.id, t, options.viewer);
    await (record as Model).update(changed, { transaction: t });
    const changes = changedFields(before, record.get(), kind.editable);
    await deps.auditor.record(actor, { action: options.action ?? `${kind.key}.update`, objectType: kind.key, objectId: record.id, objectLabel: recordName(kind, record), changes }, t);
    return { record, changes };
  });
}

/** Deletes a record (its credentials go with it); the audit event keeps what it was. */
export async function deleteRecord(deps: InventoryDeps, kind: InventoryKind, record: InventoryRecord, actor: AuditActor, options: WriteOptions = {}): Promise<void> {
  await inTransaction(deps, options, async (t) => {
    const before = record.get() as RecordFields;
    await deps.models.Credential.destroy({ where: { [kind.credentialKey]: record.id }, transaction: t });
    if (kind.key === 'container') await deps.models.Service.destroy({ where: { containerId: record.id }, transaction: t });
    await record.destroy({ transaction: t });
    await deps.auditor.record(actor, { action: `${kind.key}.delete`, objectType: kind.key, objectId: record.id, objectLabel: recordName(kind, record), changes: changedFields(before, null, kind.editable) }, t);
  });
}
