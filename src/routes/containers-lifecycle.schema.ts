import { z } from 'zod';
import type { ResizeInput } from '../provisioning/lifecycle.js';
import { optional } from '../lib/validators.js';

/**
 * A resize: the new cores, memory (MB) and disk (GB), each optional (a blank form field keeps the
 * size). The API also takes the issue's short names `memory` and `disk`. Limits that depend on the
 * configuration and the record (CONTAINER_MAX_*, the disk only grows, the quota) are the command's.
 */
const count = (what: string) => optional(z.coerce.number({ error: `Enter ${what} as a whole number.` }).int(`Enter ${what} as a whole number.`).positive(`Enter ${what} greater than 0.`).max(16_777_216, `That is too many ${what}.`));

export const resizeSchema = z
  .object({
    cores: count('cores'),
    memoryMb: count('memory (MB)'),
    diskGb: count('disk (GB)'),
    memory: count('memory (MB)'),
    disk: count('disk (GB)'),
  })
  .transform((v, ctx): ResizeInput => {
    const input: ResizeInput = { cores: v.cores, memoryMb: v.memoryMb ?? v.memory, diskGb: v.diskGb ?? v.disk };
    if (input.cores === undefined && input.memoryMb === undefined && input.diskGb === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cores'], message: 'Give the new cores, memory or disk size.' });
      return z.NEVER;
    }
    return Object.fromEntries(Object.entries(input).filter(([, x]) => x !== undefined)) as ResizeInput;
  });
