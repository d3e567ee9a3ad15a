import { z } from 'zod';

/**
 * Where a job's event stream resumes: after the seq in `Last-Event-ID` (an EventSource reconnecting),
 * or in `?lastEventId=` when the header is absent or empty; anything but a positive whole number
 * means from the start.
 */
export const streamCursorInput = z
  .object({ header: z.string().optional().catch(undefined), query: z.string().optional().catch(undefined) })
  .transform(({ header, query }) => {
    const after = Number(header || query || 0);
    return { after: Number.isInteger(after) && after > 0 ? after : 0 };
  });
