import { z } from 'zod';
import { OUTBOX_STATUSES } from '../../models/OutboxMessage.js';

/** GET /admin/mail: one status (empty: all), a page at a time. */
export const outboxListSchema = z.object({
  status: z.preprocess((v) => (v === '' ? undefined : v), z.enum(OUTBOX_STATUSES, { error: `must be one of ${OUTBOX_STATUSES.join(', ')}` }).optional()),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
