import { z } from 'zod';
import { JOB_STATUSES } from '../../models/Job.js';
import { checkbox, optional } from '../lib/validators.js';

/** The longest time limit a job may ask for: a week. */
const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** POST /jobs: the raw command (as in the seed), or a registered task with its parameters. */
export const createJobSchema = z
  .object({
    command: z.string().trim().min(1, 'is required').max(2000, 'must be at most 2000 characters').optional(),
    task: z.string().min(1).max(64).optional(),
    params: z.unknown().optional(),
    timeoutSeconds: z.coerce.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
  })
  .refine((v) => (v.command === undefined) !== (v.task === undefined), { message: 'give either a command or a task', path: ['command'] });

/**
 * POST /jobs/command: the jobs page's "Run command" form. The same raw command as POST /jobs, but a
 * person must tick the confirmation first: the command runs in `/bin/sh -c` wherever a job runner runs.
 */
export const runCommandSchema = z.object({
  command: z.string({ error: 'Enter a command.' }).trim().min(1, 'Enter a command.').max(2000, 'Use at most 2000 characters.'),
  timeoutSeconds: optional(
    z.coerce
      .number({ error: 'Give a number of seconds.' })
      .int('Give a whole number of seconds.')
      .min(1, 'At least 1 second.')
      .max(MAX_TIMEOUT_SECONDS, `At most ${MAX_TIMEOUT_SECONDS} seconds (a week).`),
  ),
  confirm: checkbox('Tick the box or leave it empty.').refine((v) => v, {
    message: "Tick the box to confirm: the command runs in a shell on the job runner's host, as the runner's user.",
  }),
});

export const outputPageSchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000, 'must be at most 1000').default(1000),
});

/** GET /jobs: the list's filter and page (a refused value is shown on the page, beside the filter). */
export const jobListSchema = z.object({
  status: optional(z.enum(JOB_STATUSES, { error: `Choose one of: any, ${JOB_STATUSES.join(', ')}.` })),
  /** Only jobs that finished within the last this many days (the dashboard's "failed in the last day"). */
  within: optional(
    z.coerce
      .number({ error: 'Give a number of days.' })
      .int('Give a whole number of days.')
      .min(1, 'At least 1 day.')
      .max(3650, 'At most 3650 days.'),
  ),
  page: optional(
    z.coerce
      .number({ error: 'The page number must be a number.' })
      .int('The page number must be a whole number.')
      .min(1, 'The page number starts at 1.')
      .max(100_000, 'The page number is at most 100000.'),
  ).transform((v) => v ?? 1),
});
export type JobListQuery = z.infer<typeof jobListSchema>;

/** The list's query as far as it is valid (for the page beside a refused filter): a bad value falls back to its default. */
export const jobListFallbackSchema = z.object({
  status: jobListSchema.shape.status.catch(undefined),
  within: jobListSchema.shape.within.catch(undefined),
  page: jobListSchema.shape.page.catch(1),
});
