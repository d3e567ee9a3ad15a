import { z } from 'zod';
import { ValidationError } from '../lib/errors.js';
import * as v from '../lib/validators.js';
import { recordName, type InventoryKind, type InventoryRecord } from './kinds.js';
import { checkbox } from './list-query.js';
import { updateRecord, type MayView } from './records.js';
import type { RecordFields } from './schema.js';
import { inTransaction, type CommandContext } from '../services/context.js';

/** Most rows one bulk edit may touch (a page holds at most 200; the API may send more). */
export const BULK_MAX = 1000;
/** Tags are stored comma-separated in a 512-character column. */
const TAGS_COLUMN_MAX = 512;
const MAX_TAGS = 20;

const id = z.coerce.number({ error: 'Each id is a record number.' }).int('Each id is a record number.').positive('Each id is a record number.');

/**
 * An admin's change to the selected rows: owner, expiry and tags. `ids` comes as an array (JSON, or
 * one checkbox per row), a single value (one box ticked) or a comma-separated string (the page's
 * script packs a large selection into one field to stay under the form parameter limit).
 */
export const bulkEditSchema = z
  .object({
    ids: z.preprocess(
      (x) => (typeof x === 'string' ? x.split(/[\s,]+/).filter(Boolean) : typeof x === 'number' ? [x] : x),
      z.array(id, { error: 'Select at least one row.' }).min(1, 'Select at least one row.').max(BULK_MAX, `At most ${BULK_MAX} rows at a time.`),
    ),
    owner: v.optional(v.username),
    clearOwner: checkbox('Clear owner'),
    expiresAt: v.optional(v.isoDate),
    clearExpiry: checkbox('Clear expiry'),
    addTags: v.optional(v.tags),
    removeTags: v.optional(v.tags),
    returnTo: z.string().max(2000).optional().catch(undefined),
  })
  .superRefine((input, ctx) => {
    // Runs even when a field failed its own rule (Zod refinements do not abort): read defensively.
    const tags = (x: unknown) => (typeof x === 'string' ? v.tagList(x) : []);
    if (input.owner && input.clearOwner) ctx.addIssue({ code: 'custom', path: ['owner'], message: 'Give a new owner or clear the owner, not both.' });
    if (input.expiresAt && input.clearExpiry) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'Give an expiry date or clear it, not both.' });
    const both = tags(input.addTags).filter((t) => tags(input.removeTags).includes(t));
    if (both.length) ctx.addIssue({ code: 'custom', path: ['removeTags'], message: `A tag cannot be added and removed at once (${both.join(', ')}).` });
    if (!input.owner && !input.clearOwner && !input.expiresAt && !input.clearExpiry && !input.addTags && !input.removeTags) {
      ctx.addIssue({ code: 'custom', path: [], message: 'Choose a change to apply: an owner, an expiry date or tags.' });
    }
  });

export type BulkEditInput = z.infer<typeof bulkEditSchema>;

/** The record's tags after the edit, or undefined when tags are not being edited. */
function editedTags(kind: InventoryKind, record: InventoryRecord, input: BulkEditInput): string | null | undefined {
  if (!input.addTags && !input.removeTags) return undefined;
  const removed = new Set(v.tagList(input.removeTags));
  const next = [...new Set([...v.tagList(record.tags), ...v.tagList(input.addTags)])].filter((t) => !removed.has(t));
  const joined = next.join(',');
  if (next.length > MAX_TAGS || joined.length > TAGS_COLUMN_MAX) {
    throw new ValidationError('Please correct the highlighted fields.', { addTags: `${recordName(kind, record)} would have too many tags (at most ${MAX_TAGS}, ${TAGS_COLUMN_MAX} characters).` });
  }
  return next.length ? joined : null;
}

function fieldsFor(kind: InventoryKind, record: InventoryRecord, input: BulkEditInput): RecordFields {
  const fields: RecordFields = {};
  if (input.owner) fields.username = input.owner;
  if (input.clearOwner) fields.username = null;
  if (input.expiresAt) fields.expiresAt = input.expiresAt;
  if (input.clearExpiry) fields.expiresAt = null;
  const tags = editedTags(kind, record, input);
  if (tags !== undefined) fields.tags = tags;
  return fields;
}

/** The record commands name the owner `username`; this form calls it `owner`, where its message belongs. */
function onOwnerField(error: unknown): never {
  if (error instanceof ValidationError && error.fields?.username) {
    const { username, ...rest } = error.fields;
    throw new ValidationError(error.message, { ...rest, owner: username });
  }
  throw error;
}

/**
 * Applies the edit to every selected record in ONE transaction: all rows change or none does (an
 * unknown id, or a record the edit would make invalid, rolls everything back). Each changed record
 * gets its own `<kind>.bulk-update` audit event; unchanged ones are skipped. Returns how many changed.
 */
export async function applyBulkEdit(cmd: CommandContext, kind: InventoryKind, input: BulkEditInput, mayView?: MayView): Promise<number> {
  const ids = [...new Set(input.ids)];
  return inTransaction(cmd, async (t) => {
    // Locked (on MariaDB) so a concurrent edit cannot slip between reading the tags and writing them.
    const records = await kind.model(cmd.models).findAll({ where: { id: ids }, order: [['id', 'ASC']], lock: t.LOCK.UPDATE, transaction: t });
    const found = new Set(records.map((r) => r.id));
    const missing = ids.filter((i) => !found.has(i));
    if (missing.length) {
      const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? ', …' : '');
      throw new ValidationError(`Nothing was changed: no ${kind.label} with id ${shown}.`, { ids: `Unknown ${kind.label} id: ${shown}.` });
    }
    let updated = 0;
    for (const record of records) {
      const { changes } = await updateRecord(cmd, kind, record, fieldsFor(kind, record, input), { transaction: t, action: `${kind.key}.bulk-update`, mayView }).catch(onOwnerField);
      if (Object.keys(changes).length) updated++;
    }
    return updated;
  });
}
