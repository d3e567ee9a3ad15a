import { z } from 'zod';
import * as v from '../lib/validators.js';
import { nodeName } from './nodes.schema.js';
import { bulkLimitError, DRIFT_BULK_MAX } from '../inventory/drift-actions.js';

/** Import an unknown machine from the last sync: which machine, and its owner (optional). */
export const importMachineSchema = z.object({
  kind: z.enum(['lxc', 'qemu'], { error: 'The kind is lxc (container) or qemu (VM).' }),
  node: nodeName,
  vmid: v.vmid,
  username: v.optional(v.username),
});

/** Accept Proxmox's values for a drifted record. */
export const acceptDriftSchema = z.object({
  kind: z.enum(['container', 'vm'], { error: 'The kind is container or vm.' }),
  id: z.coerce.number({ error: 'Which record?' }).int().positive('Which record?'),
});

/** Clean up a container left over by an interrupted create (the drift page's button). */
export const cleanUpLeftoverSchema = z.object({
  id: z.coerce.number({ error: 'Which container?' }).int().positive('Which container?'),
});

/** Most machines or records one bulk drift action takes (the command says why). */
export { DRIFT_BULK_MAX };

/**
 * A list from a form or JSON: an array (one checkbox per row, or JSON), a single value (one box
 * ticked), or one field of space/comma-separated values (the page's script and the confirmation
 * page pack a large selection into one field, under the form parameter limit).
 */
const list = (x: unknown) => (typeof x === 'string' ? x.split(/[\s,]+/).filter(Boolean) : x === undefined || x === null || Array.isArray(x) ? x : [x]);

/** `lxc/pve1/101` (the page's checkbox value) or `{kind, node, vmid}` (JSON). */
const machineRef = z.preprocess(
  (x) => {
    if (typeof x !== 'string') return x;
    const [kind, node, vmid] = x.split('/');
    return { kind, node, vmid };
  },
  z.object({ kind: importMachineSchema.shape.kind, node: nodeName, vmid: v.vmid }, { error: 'Each machine is kind/node/VMID, e.g. lxc/pve1/101.' }),
);

/** `container/12` (the page's checkbox value) or `{kind, id}` (JSON). */
const recordRef = z.preprocess(
  (x) => {
    if (typeof x !== 'string') return x;
    const [kind, id] = x.split('/');
    return { kind, id };
  },
  acceptDriftSchema,
);

/** Whether the person confirmed on the confirmation page (browsers; API clients act at once). */
const confirmed = z.unknown().optional().transform(v.isTicked);

/**
 * Import several unknown machines with one owner: `machines` (a list), or `all` (every unknown
 * machine of the last sync on a registered node).
 */
export const bulkImportSchema = z
  .object({
    machines: z.preprocess(list, z.array(machineRef).optional()),
    all: v.checkbox('Select all is a tick box.'),
    username: v.optional(v.username),
    confirm: confirmed,
  })
  .superRefine((input, ctx) => {
    if (!input.all && !input.machines?.length) ctx.addIssue({ code: 'custom', path: ['machines'], message: 'Select at least one machine (or all).' });
    if (!input.all && input.machines && input.machines.length > DRIFT_BULK_MAX) ctx.addIssue({ code: 'custom', path: ['machines'], message: bulkLimitError(input.machines.length, 'machines', 'machines').message });
  });

/**
 * Forget or re-link several records gone from Proxmox: `records` (a list), or `all` (every record
 * gone from Proxmox; for re-link, every one of them with a match in the last sync).
 */
export const bulkGoneSchema = z
  .object({
    records: z.preprocess(list, z.array(recordRef).optional()),
    all: v.checkbox('Select all is a tick box.'),
    confirm: confirmed,
  })
  .superRefine((input, ctx) => {
    if (!input.all && !input.records?.length) ctx.addIssue({ code: 'custom', path: ['records'], message: 'Select at least one record (or all).' });
    if (!input.all && input.records && input.records.length > DRIFT_BULK_MAX) ctx.addIssue({ code: 'custom', path: ['records'], message: bulkLimitError(input.records.length, 'records', 'records').message });
  });
