import { z } from 'zod';

/** An admin's rejection: the reason is mailed to the requester, so it must say something. */
export const rejectRequestInput = z.object({
  reason: z.string({ error: 'Give the requester a reason.' })
    .trim()
    .min(1, 'Give the requester a reason.')
    .max(1000, 'Keep the reason to 1000 characters.'),
});

/** What a refused rejection shows again in its form: the reason as typed. */
export const rejectFormValues = z.object({ reason: z.string().catch('') });
