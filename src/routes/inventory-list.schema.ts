import { z } from 'zod';
import { typedText } from '../lib/validators.js';

/** The list's filter fields (also the ones a refused filter shows again as typed). */
export const FILTER_KEYS = ['q', 'node', 'status', 'owner', 'expiring', 'expired', 'unowned', 'drifted', 'tag', 'sort', 'dir', 'per'] as const;

/** What the visitor typed into the filters, to show it again beside a refused filter. */
export const listTypedValues = typedText(FILTER_KEYS);

/** Where a bulk edit's form was (the list view to go back to, or to show again with its error). */
export const bulkReturnTo = z.object({ returnTo: z.string().max(2000).optional().catch(undefined) });
