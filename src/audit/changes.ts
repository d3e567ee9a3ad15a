/** Before/after of each changed field, as stored in AuditEvents.changes. */
export type Changes = Record<string, { before?: unknown; after?: unknown }>;

/** What a masked secret looks like in the audit trail: that it was set or changed, never the value. */
export const MASK = '********';

type Row = Record<string, unknown> | null | undefined;

const comparable = (v: unknown) => (v instanceof Date ? v.toISOString() : v === undefined ? null : v);

/**
 * The fields of `fields` whose value differs between `before` and `after` (either may be null: a
 * create or a delete). Fields named in `secrets` are masked: the trail says a secret changed, not
 * what it is.
 */
export function changedFields(before: Row, after: Row, fields: readonly string[], secrets: readonly string[] = []): Changes {
  const out: Changes = {};
  for (const f of fields) {
    const b = comparable(before?.[f]);
    const a = comparable(after?.[f]);
    if (b === a) continue;
    if (before && after && b !== null && a !== null && JSON.stringify(b) === JSON.stringify(a)) continue;
    const secret = secrets.includes(f);
    const entry: { before?: unknown; after?: unknown } = {};
    if (before) entry.before = secret && b !== null ? MASK : b;
    if (after) entry.after = secret && a !== null ? MASK : a;
    out[f] = entry;
  }
  return out;
}
