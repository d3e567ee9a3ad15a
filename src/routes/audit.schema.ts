import { z } from 'zod';
import { blankToUndefined, isoDate, line, optional, typedText } from '../lib/validators.js';

/** Page sizes the audit page offers; `per` accepts any of them. */
export const AUDIT_PAGE_SIZES = [25, 50, 100, 200] as const;

/**
 * `GET /audit` filters, straight from the URL (the page's GET form), so a view can be bookmarked.
 * Empty fields mean "any". `action` is exact (`container.update`) or, ending in `.` or `.*`, a prefix
 * (`container.` = every container event). Dates are whole UTC days, both ends included.
 */
export const auditQuerySchema = z
  .object({
    actor: optional(line(191)),
    action: optional(
      z
        .string()
        .trim()
        .max(64, 'An action has at most 64 characters.')
        .regex(/^[a-z][a-z0-9-]*(\.([a-z0-9-]+|\*)?)?$/, { message: 'An action looks like container.update, or container. for all container events.' }),
    ),
    objectType: optional(z.string().trim().regex(/^[a-z][a-z0-9-]{0,31}$/, { message: 'An object type looks like container, vm, user or job.' })),
    objectId: optional(z.string().trim().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'An object id is a number or a short name (letters, digits, . _ : -).' })),
    q: optional(line(200)),
    from: optional(isoDate),
    to: optional(isoDate),
    // An empty field (the GET form sends per=) takes the default too.
    page: z.preprocess(blankToUndefined, z.coerce.number({ error: 'A page is a number.' }).int('A page is a whole number.').min(1, 'Pages start at 1.').max(100_000, 'That page is too far.').default(1)),
    per: z.preprocess(
      blankToUndefined,
      z.coerce
        .number({ error: 'Choose how many events per page.' })
        .refine((n) => (AUDIT_PAGE_SIZES as readonly number[]).includes(n), { message: `Show ${AUDIT_PAGE_SIZES.join(', ')} events per page.` })
        .default(50),
    ),
  })
  .refine((v) => !v.from || !v.to || v.from <= v.to, { message: 'The start date is after the end date.', path: ['to'] });

export type AuditQuery = z.infer<typeof auditQuerySchema>;

/** The filter fields, in the order the form shows them (also the keys kept in page links). */
export const AUDIT_FILTER_KEYS = ['actor', 'action', 'objectType', 'objectId', 'q', 'from', 'to', 'per'] as const;

/** What the visitor typed into the filters, to show it again (a refused filter, page links). */
export const auditTypedValues = typedText(AUDIT_FILTER_KEYS);
