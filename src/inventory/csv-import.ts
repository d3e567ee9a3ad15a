import type { Transaction } from 'sequelize';
import type { CsvImport, Models } from '../../models/index.js';
import { ValidationError } from '../lib/errors.js';
import { inTransaction, type CommandContext, type Requester } from '../services/context.js';
import { parseInput } from '../lib/parse-input.js';
import { csvColumns } from './csv-columns.js';
import { loadLookup, valueOf, type ImportLookup } from './csv-lookup.js';
import { readCsv, type CsvRow } from './csv-read.js';
import { attributeName, toPublicNames, type InventoryKind, type InventoryRecord } from './kinds.js';
import { valueTakenMessage, vmidTakenMessage, type MayChange, type MayView } from './records.js';
import { createSchema, updateSchema, type RecordFields } from './schema.js';
import { ownerRefusal } from './owners.js';

export { checkCsvText, columnHelp, decodeCsvUpload, MAX_ROWS, readCsv } from './csv-read.js';

/**
 * The dry run of a CSV import: what each row would do to the inventory. Planning only reads; the
 * same plan is made again inside the apply transaction (csv-apply.ts), so a preview that went stale
 * can never be applied as it was shown.
 */

export type RowAction = 'create' | 'update' | 'unchanged' | 'error';

/** One changed column, as shown on the preview: "ipv4: 10.0.0.5 → 10.0.0.6" (names, not ids). */
export interface RowChange {
  column: string;
  before: string;
  after: string;
}

export interface PlannedRow {
  line: number;
  name: string;
  action: RowAction;
  /** "ipv4: Enter an IPv4 address such as 10.0.0.12." — every problem of the row. */
  errors: string[];
  changes: RowChange[];
  /** What apply writes: every given field (create) or only the changed ones (update). */
  fields: RecordFields;
  recordId: number | null;
}

export interface ImportPlan {
  rows: PlannedRow[];
  totals: Record<RowAction, number>;
  /** No row has an error: the plan may be applied. */
  ok: boolean;
}

/**
 * Who imports, with the policy's answers (asked by the route): an importer who may set owners (an
 * admin) names any existing user; anyone else imports records they own. A row updates an existing
 * record only if `mayChange` allows it.
 */
export interface Importer {
  requester: Requester;
  /** `can(user, 'setOwner')`. */
  maySetOwner: boolean;
  /** `can(user, 'change', record)`: whether a row may update the record of that name. */
  mayChange: MayChange;
  /** Whether a clash message may name the record in the way. */
  mayView: MayView;
}

/** Values as the preview and the comparison see them: '' for none, dates as ISO text. */
const text = (v: unknown) => (v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v));
const display = (v: string) => (v.length > 120 ? `${v.slice(0, 119)}…` : v);

/** Plans `csv` (the stored upload) for `importer`; `transaction` when planning inside the apply. */
export async function planImport(models: Models, kind: InventoryKind, csv: string, importer: Importer, transaction?: Transaction): Promise<ImportPlan> {
  const file = readCsv(kind, csv);
  const lookup = await loadLookup(models, kind, file.rows, transaction);
  const planner: Planner = {
    kind,
    lookup,
    importer,
    seen: new Map(),
    headerOf: new Map(csvColumns(kind).map((c) => [c.field, c.header])),
    schemas: { create: createSchema(kind), update: updateSchema(kind) },
  };
  const rows = file.rows.map((row) => planRow(planner, row));
  const totals: Record<RowAction, number> = { create: 0, update: 0, unchanged: 0, error: 0 };
  for (const row of rows) totals[row.action]++;
  return { rows, totals, ok: totals.error === 0 };
}

/**
 * Stores an uploaded file (the importer's, to preview and apply later) with its `csv-import.upload`
 * event, and returns it with its plan. A file that is not a usable CSV of this kind is refused
 * (422) before anything is stored.
 */
export async function uploadCsv(cmd: CommandContext, kind: InventoryKind, file: { content: string; filename: string | null }, importer: Importer): Promise<{ upload: CsvImport; plan: ImportPlan }> {
  const { content, filename } = file;
  readCsv(kind, content);
  const plan = await planImport(cmd.models, kind, content, importer);
  const upload = await inTransaction(cmd, async (transaction) => {
    const row = await cmd.models.CsvImport.create({ kind: kind.key, username: importer.requester.username, filename, content, appliedAt: null }, { transaction });
    await cmd.auditor.record(
      cmd.actor,
      { action: 'csv-import.upload', objectType: 'csv-import', objectId: row.id, objectLabel: `${kind.plural}: ${filename ?? 'upload'}`, changes: { rows: { after: plan.rows.length }, filename: { after: filename } } },
      transaction,
    );
    return row;
  });
  return { upload, plan };
}

/** What an applied import did: when, by whom, and how many records it created and updated. */
export interface AppliedSummary {
  at: Date | null;
  by: string | null;
  created: number;
  updated: number;
}

/**
 * What the apply of `upload` did, read from its `csv-import.apply` audit event (csv-apply.ts writes
 * it): the import keeps no counts of its own.
 */
export async function appliedSummary(models: Models, upload: CsvImport): Promise<AppliedSummary> {
  const event = await models.AuditEvent.findOne({ where: { objectType: 'csv-import', objectId: String(upload.id), action: 'csv-import.apply' }, order: [['id', 'DESC']] });
  const changes = event?.changes ? (JSON.parse(event.changes) as Record<string, { after?: number }>) : {};
  return { at: upload.appliedAt, by: event?.actor ?? null, created: changes.created?.after ?? 0, updated: changes.updated?.after ?? 0 };
}

/** The plan as the JSON API shows it (without the internal write set). */
export function publicPlan(plan: ImportPlan) {
  return { ok: plan.ok, totals: plan.totals, rows: plan.rows.map(({ line, name, action, errors, changes }) => ({ line, name, action, errors, changes })) };
}

/** What every row of one file is planned with; `seen` remembers earlier rows' unique values. */
interface Planner {
  kind: InventoryKind;
  lookup: ImportLookup;
  importer: Importer;
  seen: Map<string, number>;
  headerOf: Map<string, string>;
  schemas: { create: ReturnType<typeof createSchema>; update: ReturnType<typeof updateSchema> };
}

function planRow({ kind, lookup, importer, seen, headerOf, schemas }: Planner, row: CsvRow): PlannedRow {
  const errors: Record<string, string> = {};
  const fail = (field: string, message: string) => (errors[field] ??= message);
  const name = row.cells[kind.nameField] ?? '';
  const existing = lookup.existing.get(name.toLowerCase()) ?? null;
  const current = (existing?.get() ?? {}) as RecordFields;

  const input: Record<string, unknown> = { ...row.cells };
  delete input.node;
  if ('node' in row.cells) {
    const nodeId = row.cells.node === '' ? null : lookup.nodeIdByName.get(row.cells.node.toLowerCase());
    if (nodeId === undefined) fail('node', `no node named ${row.cells.node}.`);
    else input.nodeId = nodeId;
  }

  let fields: RecordFields = {};
  try {
    fields = Object.fromEntries(Object.entries(parseInput(existing ? schemas.update : schemas.create, toPublicNames(kind, input))).filter(([, v]) => v !== undefined));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    for (const [field, message] of Object.entries(err.fields ?? {})) fail(field === 'nodeId' ? 'node' : attributeName(kind, field), message);
  }

  checkOwner(kind, fields, existing, lookup, importer, fail);

  // Update rows carry only the fields that change.
  const write = existing ? Object.fromEntries(Object.entries(fields).filter(([f, v]) => text(v) !== text(current[f]))) : fields;
  const merged: RecordFields = { ...current, ...write };
  checkClashes(kind, row.line, merged, write, existing, lookup, seen, fail, importer);

  const messages = [...headerOf.keys(), ...Object.keys(errors)]
    .filter((f, i, all) => errors[f] && all.indexOf(f) === i)
    .map((f) => `${headerOf.get(f) ?? f}: ${errors[f]}`);
  const shown = (f: string, v: unknown) => display(f === 'nodeId' ? text(v === null ? null : lookup.nodeNameById.get(v as number)) : text(v));
  const changes = Object.entries(write)
    .filter(([, v]) => existing || v !== null)
    .map(([f, v]) => ({ column: headerOf.get(f === 'nodeId' ? 'node' : f) ?? f, before: existing ? shown(f, current[f]) : '', after: shown(f, v) }));
  const action: RowAction = messages.length ? 'error' : !existing ? 'create' : changes.length ? 'update' : 'unchanged';
  return { line: row.line, name: display(name) || '(no name)', action, errors: messages, changes: action === 'error' ? [] : changes, fields: write, recordId: existing?.id ?? null };
}

/**
 * The row's right to its record and the owner column. A row may update only a record the importer
 * may change. An importer who may set owners names any existing user (or clears it); anyone else
 * imports records they own: another owner is an error, an empty or missing owner means themselves.
 */
function checkOwner(kind: InventoryKind, fields: RecordFields, existing: InventoryRecord | null, lookup: ImportLookup, importer: Importer, fail: (f: string, m: string) => void): void {
  if (existing && !importer.mayChange({ kind: kind.key, username: existing.username })) {
    fail(kind.nameField, `${existing.get(kind.nameField)} is not yours: you can only update your own ${kind.plural}.`);
  }
  const owner = fields.username;
  if (importer.maySetOwner) {
    if (typeof owner === 'string' && owner !== existing?.username && !lookup.users.has(owner)) fail('username', ownerRefusal(owner, 'admin'));
    return;
  }
  const { username } = importer.requester;
  if (typeof owner === 'string' && owner !== username) fail('username', `you can only import ${kind.plural} you own (not ${owner}).`);
  else if (owner === null || !existing) fields.username = username;
}

/**
 * Unique values: against earlier rows of the file (naming their line) and against the database,
 * worded by records.ts (the record in the way is named only when the importer may see it, so a
 * dry run cannot map other users' addresses to their host names). Only values being written are
 * checked against the database; the row's own record does not count.
 */
function checkClashes(kind: InventoryKind, line: number, merged: RecordFields, write: RecordFields, existing: InventoryRecord | null, lookup: ImportLookup, seen: Map<string, number>, fail: (f: string, m: string) => void, importer: Importer): void {
  const inFile = (field: string, key: string, label: string) => {
    const first = seen.get(`${field}:${key}`);
    if (first !== undefined) fail(field, `${label} is already on line ${first}.`);
    else seen.set(`${field}:${key}`, line);
  };
  const name = merged[kind.nameField];
  if (typeof name === 'string') inFile(kind.nameField, name.toLowerCase(), name);
  for (const field of ['ipv4Address', 'macAddress'] as const) {
    const value = merged[field];
    if (typeof value !== 'string') continue;
    inFile(field, value, value);
    const holder = field in write ? lookup.holders.get(`${field}:${value}`) : undefined;
    if (holder && !(holder.kind === kind && holder.record.id === existing?.id)) {
      fail(field, valueTakenMessage(importer.mayView, field, value, holder.kind, holder.record));
    }
  }
  const vmid = merged.vmid;
  const nodeId = merged.nodeId;
  if (typeof vmid !== 'number' || typeof nodeId !== 'number') return;
  inFile('vmid', `${nodeId}:${vmid}`, `VMID ${vmid} on that node`);
  if (!('vmid' in write) && !('nodeId' in write)) return;
  const other = lookup.vmidHolders.find((r) => valueOf(r, 'vmid') === vmid && valueOf(r, 'nodeId') === nodeId && r.id !== existing?.id);
  if (other) fail('vmid', vmidTakenMessage(importer.mayView, kind, vmid, other));
}
