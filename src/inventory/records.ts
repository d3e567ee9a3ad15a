import { Op, UniqueConstraintError, type Model, type Transaction, type WhereOptions } from 'sequelize';
import { UNBUILT_CONTAINER_STATUSES } from '../../models/Container.js';
import type { Container, Models } from '../../models/index.js';
import { changedFields } from '../audit/index.js';
import { ConflictError, ValidationError } from '../lib/errors.js';
import { checkExpiry } from '../provisioning/expiry.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { publishOnCommit } from '../edge/publish.js';
import { OwnerCheck, type OwnerRight } from './owners.js';
import { KINDS, publicName, recordName, toPublicNames, type InventoryKind, type InventoryRecord } from './kinds.js';
import type { RecordFields } from './schema.js';

/**
 * Whether the requester may see `holder`, a record holding a value they asked for: the route asks
 * the policy (`can(user, 'view', …)`), so a clash never tells a user what another user's records
 * are called. Without one, messages only say the value is taken.
 */
export type MayView = (holder: { kind: InventoryKind['key']; username: string | null }) => boolean;

/** `can(user, 'change', record)`, asked by the route, as a predicate over containers and VMs. */
export type MayChange = (record: { kind: InventoryKind['key']; username: string | null }) => boolean;

interface WriteOptions {
  /** Write inside this transaction (CSV import, bulk edit) instead of a new one. */
  transaction?: Transaction;
  /** Whether a clash message may name the record in the way. */
  mayView?: MayView;
  /**
   * `can(user, 'setOwner')` for a user's form or API call: when false, the owner rule below applies.
   * Absent for writers the rule is not about (jobs, the CLI, admin-only commands, a transfer).
   */
  maySetOwner?: boolean;
  /**
   * Who may be named as a new owner (src/inventory/owners.ts): `admin` unless said otherwise (a
   * writer who may not set owners only ever writes their own name). A transfer by a non-admin says
   * `account`. A bulk command passes one OwnerCheck for all its records.
   */
  owners?: OwnerCheck | OwnerRight;
}

/** Refuses (422, on `username`) a new owner the owner rule does not accept; the writer's own name always passes. */
async function checkNewOwner(cmd: CommandContext, username: unknown, options: WriteOptions, t: Transaction): Promise<void> {
  if (typeof username !== 'string' || username === cmd.actor.username) return;
  const check = options.owners instanceof OwnerCheck ? options.owners : new OwnerCheck(cmd.models, options.owners ?? 'admin');
  const refusal = await check.refusal(username, t);
  if (refusal) throw new ValidationError('Please correct the highlighted fields.', { username: refusal });
}

/**
 * The owner rule for a writer who may not choose owners: what they create is theirs, whatever the
 * input said, and an edit leaves the owner as it is (an owner hands a record over with a transfer,
 * which checks who receives it). Returns the fields to write.
 */
function applyOwnerRule(cmd: CommandContext, fields: RecordFields, existing: InventoryRecord | null, options: WriteOptions): RecordFields {
  if (options.maySetOwner !== false) return fields;
  if (!existing) return { ...fields, username: cmd.actor.username };
  if (fields.username === undefined) return fields;
  if (fields.username !== existing.username) throw new ValidationError('Please correct the highlighted fields.', { username: 'Use "Transfer ownership" to give this record to someone else.' });
  const unchanged = { ...fields };
  delete unchanged.username;
  return unchanged;
}

const sees = (mayView: MayView | undefined, kind: InventoryKind, holder: InventoryRecord) => mayView?.({ kind: kind.key, username: holder.username }) ?? false;

const FIELD_WORDS: Record<string, string> = { macAddress: 'MAC address', ipv4Address: 'IP address' };

/**
 * "The IP address 10.0.0.5 is already taken." — naming the record that holds it only for a viewer
 * who may see that record, so a clash never tells a user what another user's records are called.
 */
export function valueTakenMessage(mayView: MayView | undefined, field: 'macAddress' | 'ipv4Address', value: string, holderKind: InventoryKind, holder: InventoryRecord): string {
  if (sees(mayView, holderKind, holder)) return `${recordName(holderKind, holder)} (${holderKind.label}) already has the ${FIELD_WORDS[field]} ${value}.`;
  return `The ${FIELD_WORDS[field]} ${value} is already taken.`;
}

/** "VMID 101 on that node is already taken.", with the same naming rule as valueTakenMessage. */
export function vmidTakenMessage(mayView: MayView | undefined, kind: InventoryKind, vmid: number, holder: InventoryRecord): string {
  if (sees(mayView, kind, holder)) return `VMID ${vmid} on that node is already ${recordName(kind, holder)}.`;
  return `VMID ${vmid} on that node is already taken.`;
}

/**
 * Field errors for every unique value `fields` would clash on (name; MAC and IP in either table, since
 * a container and a VM cannot share an address; VMID on the same node), naming the record that holds
 * it when `mayView` says the requester may see it. Checked before writing so the form can say what is in the way; the
 * unique indexes still decide under a race (mapped to the same 409).
 */
export async function findClashes(models: Models, kind: InventoryKind, fields: RecordFields, excludeId: number | null, transaction?: Transaction, mayView?: MayView): Promise<Record<string, string>> {
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
      if (other) errors[field] ??= valueTakenMessage(mayView, field, value, k, other);
    }
  }
  const vmid = fields.vmid;
  const nodeId = fields.nodeId;
  if (typeof vmid === 'number' && typeof nodeId === 'number') {
    const other = await kind.model(models).findOne({ where: { nodeId, vmid, ...notSelf(kind) } as WhereOptions, transaction });
    if (other) errors[kind.vmidKey] = vmidTakenMessage(mayView, kind, vmid, other);
  }
  return errors;
}

async function checkNode(models: Models, fields: RecordFields, transaction?: Transaction): Promise<void> {
  if (typeof fields.nodeId !== 'number') return;
  if (!(await models.Node.findByPk(fields.nodeId, { transaction }))) throw new ValidationError('Please correct the highlighted fields.', { nodeId: 'No such node.' });
}

/** Runs a write in the caller's transaction or a new one; a unique clash that slipped past the check is a 409. */
async function writing<T>(cmd: CommandContext, kind: InventoryKind, options: WriteOptions, work: (t: Transaction) => Promise<T>): Promise<T> {
  try {
    if (options.transaction) return await work(options.transaction);
    return await inTransaction(cmd, work);
  } catch (err) {
    // A clash that slipped between the check and the write (two requests at once).
    if (err instanceof UniqueConstraintError) throw new ConflictError('That value is already taken by another record.', uniqueFields(kind, err));
    throw err;
  }
}

function uniqueFields(kind: InventoryKind, err: UniqueConstraintError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const item of err.errors) if (item.path) fields[publicName(kind, item.path)] = 'is already taken by another record';
  return fields;
}

async function assertNoClash(models: Models, kind: InventoryKind, merged: RecordFields, changed: RecordFields, excludeId: number | null, t: Transaction, mayView: MayView | undefined): Promise<void> {
  // Only values being written can clash; a VMID clash needs the final (node, VMID) pair.
  const probe: RecordFields = { ...changed };
  if ('vmid' in changed || 'nodeId' in changed) {
    probe.vmid = merged.vmid;
    probe.nodeId = merged.nodeId;
  }
  const clashes = await findClashes(models, kind, probe, excludeId, t, mayView);
  if (Object.keys(clashes).length) throw new ConflictError(`That ${kind.label} clashes with an existing record.`, clashes);
}

/** The audit event's changes, by public name: the audit history names the VMID as it always has. */
function auditedChanges(kind: InventoryKind, before: object | null, after: object | null) {
  return changedFields(before && toPublicNames(kind, before as RecordFields), after && toPublicNames(kind, after as RecordFields), kind.editable);
}

/** Creates a record and its audit event in one transaction; `options.maySetOwner` false makes it the writer's. */
export async function createRecord(cmd: CommandContext, kind: InventoryKind, given: RecordFields, options: WriteOptions = {}): Promise<InventoryRecord> {
  const fields = applyOwnerRule(cmd, given, null, options);
  return writing(cmd, kind, options, async (t) => {
    await checkNewOwner(cmd, fields.username, options, t);
    await checkNode(cmd.models, fields, t);
    await assertNoClash(cmd.models, kind, fields, fields, null, t, options.mayView);
    const record = await kind.model(cmd.models).create(fields as never, { transaction: t });
    await cmd.auditor.record(
      cmd.actor,
      { action: `${kind.key}.create`, objectType: kind.key, objectId: record.id, objectLabel: recordName(kind, record), changes: auditedChanges(kind, null, record.get()) },
      t,
    );
    return record;
  });
}

/**
 * Applies `given` (absent: unchanged, null: cleared) and audits the changed fields; with
 * `options.maySetOwner` false, a different owner is refused (422). Returns the
 * changes; nothing is written (nor audited) when nothing changed.
 */
export async function updateRecord(cmd: CommandContext, kind: InventoryKind, record: InventoryRecord, given: RecordFields, options: WriteOptions & { action?: string } = {}) {
  const fields = applyOwnerRule(cmd, given, record, options);
  return writing(cmd, kind, options, async (t) => {
    const before = { ...record.get() } as RecordFields;
    const changed: RecordFields = {};
    for (const [k, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const current = before[k] instanceof Date ? (before[k] as Date).toISOString() : before[k];
      if (current !== value) changed[k] = value;
    }
    if (!Object.keys(changed).length) return { record, changes: {} };
    if ('username' in changed) await checkNewOwner(cmd, changed.username, options, t);
    if (kind.key === 'container') await checkContainerEdit(cmd, record as Container, changed, options, t);
    await checkNode(cmd.models, changed, t);
    await assertNoClash(cmd.models, kind, { ...before, ...changed }, changed, record.id, t, options.mayView);
    await (record as Model).update(changed, { transaction: t });
    // What the edge config says of a container's services: its name, state and address.
    if (kind.key === 'container' && EDGE_FIELDS.some((f) => f in changed)) {
      await publishOnCommit(cmd, t, record.id, { reason: `container ${recordName(kind, record)} changed (${EDGE_FIELDS.filter((f) => f in changed).join(', ')})` });
    }
    const changes = auditedChanges(kind, before, record.get());
    await cmd.auditor.record(cmd.actor, { action: options.action ?? `${kind.key}.update`, objectType: kind.key, objectId: record.id, objectLabel: recordName(kind, record), changes }, t);
    return { record, changes };
  });
}

/**
 * What the edit of a container may not do: change anything while the create job (or the admin
 * queue) still holds the row; for its owner, take the expiry of a container Berth made outside the
 * rule it was created under (src/provisioning/expiry.ts); and, for its owner, change the address or
 * state of a container the edge trusts (one Berth made, whose address came from Proxmox, or one with
 * services): the edge sends public traffic to that address, so typing another one would point the
 * edge at any host it can reach. Admins (maySetOwner) may do all of it.
 */
async function checkContainerEdit(cmd: CommandContext, record: Container, changed: RecordFields, options: WriteOptions, t: Transaction): Promise<void> {
  if (UNBUILT_CONTAINER_STATUSES.includes(record.status)) {
    throw new ConflictError(`${record.hostname} is ${record.status}; it can be edited once that is over.`);
  }
  const admin = options.maySetOwner !== false;
  if (record.managed && 'expiresAt' in changed) checkExpiry(cmd.config, (changed.expiresAt as string | null) ?? null, admin);
  const trusted = EDGE_TRUSTED_FIELDS.filter((f) => f in changed);
  if (admin || !trusted.length) return;
  if (record.managed || (await cmd.models.Service.count({ where: { containerId: record.id }, transaction: t }))) {
    const why = record.managed ? 'Berth made this container and Proxmox gave its address' : 'the edge sends its services\' traffic there';
    const message = `Only administrators change the address or state of ${record.hostname}: ${why}.`;
    throw new ValidationError(message, Object.fromEntries(trusted.map((f) => [f, message])));
  }
}

/** What the edge trusts about a container (where it sends traffic, and whether it does). */
const EDGE_TRUSTED_FIELDS = ['ipv4Address', 'status'];

/** The container fields the edge config shows (src/edge/render.ts): a change to one re-publishes it. */
const EDGE_FIELDS = ['hostname', 'status', 'ipv4Address'];

/** Deletes a record (its credentials go with it); the audit event keeps what it was. */
export async function deleteRecord(cmd: CommandContext, kind: InventoryKind, record: InventoryRecord, options: WriteOptions = {}): Promise<void> {
  await writing(cmd, kind, options, async (t) => {
    const before = record.get() as RecordFields;
    await cmd.models.Credential.destroy({ where: { [kind.credentialKey]: record.id }, transaction: t });
    // Its services go with it, and leave the edge config after the commit.
    if (kind.key === 'container') await publishOnCommit(cmd, t, record.id, { reason: `container ${recordName(kind, record)} deleted` });
    if (kind.key === 'container') await cmd.models.Service.destroy({ where: { containerId: record.id }, transaction: t });
    await record.destroy({ transaction: t });
    await cmd.auditor.record(cmd.actor, { action: `${kind.key}.delete`, objectType: kind.key, objectId: record.id, objectLabel: recordName(kind, record), changes: auditedChanges(kind, before, null) }, t);
  });
}

/**
 * Hands `record` to `username`, audited `<kind>.transfer`. Who may receive it is the owner rule
 * (src/inventory/owners.ts): with `anyRecipient` (the policy's `can(user, 'setOwner')`), any name
 * an admin may give, including a pending account request's username; otherwise only an existing,
 * enabled Berth account, so a typo cannot hand a record to nobody (its owner would lose it: 404
 * from then on).
 */
export async function transferRecord(cmd: CommandContext, kind: InventoryKind, record: InventoryRecord, username: string, options: { anyRecipient: boolean; mayView?: MayView }) {
  return updateRecord(cmd, kind, record, { username }, { action: `${kind.key}.transfer`, mayView: options.mayView, owners: options.anyRecipient ? 'admin' : 'account' });
}
