import type { WhereOptions } from 'sequelize';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { kindOfMachine, parseDrift, proxmoxValues } from './drift.js';
import { recordName, type InventoryKind, type InventoryRecord } from './kinds.js';
import { createRecord, updateRecord, type MayView } from './records.js';
import { createSchema, updateSchema } from './schema.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import type { Job } from '../../models/index.js';
import { enqueueInventorySync } from '../jobs/enqueue-inventory-sync.js';

/**
 * The drift page's actions. Nothing a sync finds changes the inventory by itself: a person imports
 * an unknown machine or accepts Proxmox's values, through the same record commands (validation, clash
 * checks, audit) as the forms.
 */

/** "Sync now" (admins, on the drift page): enqueues an inventory-sync job with its `job.enqueue` event, in one transaction. */
export function requestInventorySync(cmd: CommandContext): Promise<Job> {
  return inTransaction(cmd, (transaction) => enqueueInventorySync(cmd, cmd.actor, transaction));
}

async function berthNodeId(cmd: CommandContext, name: string, field: string): Promise<number> {
  const node = await cmd.models.Node.findOne({ where: { name } });
  if (!node) throw new ValidationError(`Node ${name} is not registered in Berth; register it first.`, { [field]: `Register node ${name} in Berth first.` });
  return node.id;
}

/** Creates the record for a machine of the last sync (`kind` lxc|qemu on Proxmox node `node`), owned by `username`. */
export async function importMachine(cmd: CommandContext, input: { kind: 'lxc' | 'qemu'; node: string; vmid: number; username?: string | null }, mayView?: MayView): Promise<{ kind: InventoryKind; record: InventoryRecord }> {
  const snap = await cmd.models.MachineSnapshot.findOne({ where: { kind: input.kind, node: input.node, vmid: input.vmid } });
  if (!snap) throw new NotFoundError(`The last sync saw no ${input.kind === 'lxc' ? 'container' : 'VM'} ${input.vmid} on ${input.node}.`);
  const kind = kindOfMachine(snap.kind);
  const raw: Record<string, unknown> = {
    [kind.nameField]: snap.name ?? '',
    [kind.vmidKey]: snap.vmid,
    [kind.osField]: snap.osName ?? undefined,
    nodeId: await berthNodeId(cmd, snap.node, 'node'),
    macAddress: snap.macAddress ?? undefined,
    ipv4Address: snap.ipv4Address ?? undefined,
    status: snap.status && kind.statuses.includes(snap.status) ? snap.status : undefined,
    username: input.username ?? undefined,
  };
  // Proxmox's values meet Berth's rules here: a name Berth refuses is reported, not stored.
  const fields = parseInput(createSchema(kind), raw);
  const record = await createRecord(cmd, kind, { ...fields, syncedAt: snap.seenAt }, { mayView });
  return { kind, record };
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
