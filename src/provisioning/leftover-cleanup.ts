// Cleaning up what an interrupted create left (leftovers.ts finds them): the record becomes
// `error` saying so, then the usual delete job removes the container from Proxmox and the record.
import type { Container, Node } from '../../models/index.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { clientForNode } from '../services/nodes.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { findInterruptedCreates, interruptedCreateText } from './leftovers.js';
import { requestDelete, type DeleteAnswer } from './lifecycle.js';
import { markedContainerId } from './marker.js';
import { isGoneFromProxmox } from './task-support.js';

/**
 * Whether the container at the record's VMID is the one its create made (it carries the record's
 * marker). The VMID is stored before the create call, so after a crash it may name a container
 * another request created (it got the same nextid and won), or nothing at all: then only the
 * record may go. A container still locked by a create cannot be told yet: refused.
 */
async function ownsItsVmid(cmd: CommandContext, row: Container, node: Node): Promise<boolean> {
  const client = clientForNode(node, cmd.vault, cmd.config);
  try {
    const config = await client.containers.config(node.name, row.vmid!);
    if (markedContainerId(config.description) === row.id) return true;
    if (config.lock === 'create') throw new ConflictError(`CT ${row.vmid} on ${node.name} is still being created; try again when that task has ended.`);
    return false;
  } catch (err) {
    if (isGoneFromProxmox(err)) return false;
    throw err;
  } finally {
    await client.close();
  }
}

/**
 * Cleans up one interrupted create (admins, from the drift page): the record becomes `error` saying
 * so (audited), then the delete job removes the container from Proxmox and the record (or the
 * record alone when no container with its marker is at its VMID). Refused when it is no longer an
 * interrupted create.
 */
export async function cleanUpInterruptedCreate(cmd: CommandContext, containerId: number): Promise<DeleteAnswer> {
  const seen = await cmd.models.Container.findByPk(containerId);
  if (!seen) throw new NotFoundError('No such container.');
  const [found] = (await findInterruptedCreates(cmd.models, seen.nodeId === null ? undefined : [seen.nodeId])).filter((c) => c.container.id === seen.id);
  if (!found) throw new ConflictError(`${seen.hostname} is not left over by an interrupted create (it is ${seen.status}).`);
  const node = seen.nodeId ? await cmd.models.Node.findByPk(seen.nodeId) : null;
  const provisionError = interruptedCreateText(found, node?.name ?? null);
  const ours = seen.vmid !== null && node !== null && (await ownsItsVmid(cmd, seen, node));
  const container = await inTransaction(cmd, async (t) => {
    const row = await cmd.models.Container.findByPk(containerId, { transaction: t, lock: t.LOCK.UPDATE });
    // Cleaned up by someone else meanwhile: the create job cannot run again, so only that changes it.
    if (!row || row.status !== 'provisioning') throw new ConflictError(`${seen.hostname} was changed meanwhile; look at the drift page again.`);
    // Not ours (or nothing there): forgetting the VMID makes the delete remove the record alone.
    const before = row.vmid;
    const vmid = ours ? before : null;
    await row.update({ status: 'error', provisionError, vmid }, { transaction: t });
    await cmd.auditor.record(cmd.actor, {
      action: 'container.create-interrupted',
      objectType: 'container',
      objectId: row.id,
      objectLabel: row.hostname,
      changes: { status: { before: 'provisioning', after: 'error' }, provisionError: { after: provisionError }, ...(vmid === before ? {} : { vmid: { before, after: null } }) },
    }, t);
    return row;
  });
  // An admin's clean-up (the drift page), of a record Berth made: the delete job checks the marker again.
  return requestDelete(cmd, container, { mayOperateUnmanaged: true });
}
