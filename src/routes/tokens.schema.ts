import { z } from 'zod';

export const createTokenInput = z.object({
  name: z.string({ error: 'Name the token.' }).trim().min(1, 'Name the token.').max(64, 'Use at most 64 characters.')
    .regex(/^[\w .:@-]+$/, 'Use letters, digits, spaces and . _ : @ -'),
  // edge: only GET /nginx.conf and POST /edges/report (bin/berth-edge-pull); administrators only (src/routes/tokens.ts).
  scope: z.enum(['read', 'write', 'edge'], { error: 'Choose read, write or edge.' }).default('write'),
  expiresInDays: z.union([z.literal('').transform(() => undefined), z.coerce.number({ error: 'Give a number of days.' }).int('Give a whole number of days.').min(1, 'At least 1 day.').max(3650, 'At most 3650 days.')]).optional(),
});
