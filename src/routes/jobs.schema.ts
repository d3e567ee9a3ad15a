import { z } from 'zod';
import { JOB_STATUSES } from '../../models/Job.js';

/** POST /jobs: the raw command (as in the seed), or a registered task with its parameters. */
export const createJobSchema = z
  .object({
    command: z.string().trim().min(1, 'is required').max(2000, 'must be at most 2000 characters').optional(),
    task: z.string().min(1).max(64).optional(),
    params: z.unknown().optional(),
    timeoutSeconds: z.coerce.number().int().min(1).max(7 * 24 * 3600).optional(),
  })
  .refine((v) => (v.command === undefined) !== (v.task === undefined), { message: 'give either a command or a task', path: ['command'] });

export const outputPageSchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000, 'must be at most 1000').default(1000),
});

export const jobListSchema = z.object({
  status: z.enum(JOB_STATUSES).optional().or(z.literal('').transform(() => undefined)),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
