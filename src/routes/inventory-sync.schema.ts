import { z } from 'zod';
import * as v from '../lib/validators.js';
import { nodeName } from './nodes.schema.js';

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
