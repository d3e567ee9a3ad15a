import type { WhereOptions } from 'sequelize';
import type { AuditActor } from '../audit/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors.js';
import { parseInput } from '../middlewares/validate.js';
import { kindOfGuest, parseDrift, proxmoxValues } from './drift.js';
import { recordName, type InventoryKind, type InventoryRecord } from './kinds.js';
import { createRecord, updateRecord, type InventoryDeps } from './records.js';
import { createSchema, updateSchema } from './schema.js';
import type { Viewer } from '../policies/inventory.js';

/**
 * The drift page's actions. Nothing a sync finds changes the inventory by itself: a person imports
 * an unknown guest or accepts Proxmox's values, through the same record commands (validation, clash
 * checks, audit) as the forms.
 */

async function berthNodeId(deps: InventoryDeps, name: string, field: string): Promise<number> {
  const node = await deps.models.Node.findOne({ where: { name } });
  if (!node) throw new ValidationError(`Node ${name} is not registered in Berth; register it first.`, { [field]: `Register node ${name} in Berth first.` });
  return node.id;
}

/** Creates the record for a guest of the last sync (`kind` lxc|qemu on Proxmox node `node`), owned by `username`. */
export async function importGuest(deps: InventoryDeps, input: { kind: 'lxc' | 'qemu'; node: string; vmid: number; username?: string | null }, actor: AuditActor, viewer?: Viewer): Promise<{ kind: InventoryKind; record: InventoryRecord }> {
  const snap = await deps.models.GuestSnapshot.findOne({ where: { kind: input.kind, node: input.node, vmid: input.vmid } });
  if (!snap) throw new NotFoundError(`The last sync saw no ${input.kind === 'lxc' ? 'container' : 'VM'} ${input.vmid} on ${input.node}.`);
  const kind = kindOfGuest(snap.kind);
  const raw: Record<string, unknown> = {
    [kind.nameField]: snap.name ?? '',
    [kind.vmidField]: snap.vmid,
    [kind.osField]: snap.osName ?? undefined,
    nodeId: await berthNodeId(deps, snap.node, 'node'),
    macAddress: snap.macAddress ?? undefined,
    ipv4Address: snap.ipv4Address ?? undefined,
    status: snap.status && kind.statuses.includes(snap.status) ? snap.status : undefined,
    username: input.username ?? undefined,
  };
  // Proxmox's values meet Berth's rules here: a name Berth refuses is reported, not stored.
  const fields = parseInput(createSchema(kind), raw);
  const record = await createRecord(deps, kind, { ...fields, syncedAt: snap.seenAt }, actor, { viewer });
  return { kind, record };
}

/**
 * Writes Proxmox's values of every drifted field into the record (audited as `<kind>.sync-accept`)
 * and clears its drift, in one transaction.
 */
export async function acceptDrift(deps: InventoryDeps, kind: InventoryKind, id: number, actor: AuditActor, viewer?: Viewer): Promise<{ record: InventoryRecord; changes: Record<string, unknown> }> {
  const record = (await kind.model(deps.models).findByPk(id)) as InventoryRecord | null;
  if (!record) throw new NotFoundError(`No such ${kind.label}.`);
  const drift = parseDrift(record.drift);
  if (!drift?.fields || !Object.keys(drift.fields).length) {
    throw new ConflictError(drift?.gone ? `${recordName(kind, record)} is gone from Proxmox: there are no values to accept (delete the record if it is no longer needed).` : `${recordName(kind, record)} has no drift to accept.`);
  }
  const values = proxmoxValues(drift);
  if (typeof values.nodeId === 'string') values.nodeId = await berthNodeId(deps, values.nodeId, 'nodeId');
  const fields = parseInput(updateSchema(kind), values);
  const action = `${kind.key}.sync-accept`;
  return deps.sequelize.transaction(async (t) => {
    const result = await updateRecord(deps, kind, record, fields, actor, { transaction: t, action, viewer });
    if (!Object.keys(result.changes).length) {
      // Berth already holds these values (edited since the sync): the action is still recorded.
      await deps.auditor.record(actor, { action, objectType: kind.key, objectId: record.id, objectLabel: recordName(kind, record), changes: { drift: { before: record.drift, after: null } } }, t);
    }
    await kind.model(deps.models).update({ drift: null } as never, { where: { id: record.id } as WhereOptions, transaction: t, silent: true });
    (record as { drift: string | null }).drift = null;
    return { record, changes: result.changes };
  });
}
