import { parse } from 'csv-parse/sync';
import { ValidationError } from '../lib/errors.js';
import { csvColumns, fromCell, type CsvColumn } from './csv-columns.js';
import { publicName, type InventoryKind } from './kinds.js';

/** The most data rows one import takes: enough for a cluster, small enough for one transaction. */
export const MAX_ROWS = 5000;

/** One data row: its line in the file (for messages) and its cells by record field, present columns only. */
export interface CsvRow {
  line: number;
  cells: Record<string, string>;
}

export interface CsvFile {
  columns: CsvColumn[];
  rows: CsvRow[];
}

const fileError = (message: string) => new ValidationError(message, { file: message });

/**
 * The text of an uploaded file, or a 422 saying why it is not a UTF-8 CSV file: empty, binary
 * (NUL bytes: also what UTF-16 "Unicode text" exports look like) or not valid UTF-8.
 */
export function decodeCsvUpload(bytes: Buffer): string {
  if (bytes.includes(0)) throw fileError('The file contains NUL bytes: it is binary or UTF-16, not a UTF-8 CSV file (save it as "CSV UTF-8").');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw fileError('The file is not UTF-8 text: save it as "CSV UTF-8" and upload it again.');
  }
  return checkCsvText(text);
}

/** Refuses empty text and NUL characters (a JSON body's `csv` comes here directly). */
export function checkCsvText(text: string): string {
  if (!text.replace(/^\uFEFF/, '').trim()) throw fileError('The file is empty.');
  if (text.includes('\u0000')) throw fileError('The file contains NUL characters: it is not a CSV text file.');
  return text;
}

/** Header spellings accepted for a column: its CSV header or its field's public name, any case, ignoring spaces, _ and -. */
const headerKey = (h: string) => h.toLowerCase().replace(/[\s_-]+/g, '');

function columnsByHeader(kind: InventoryKind): Map<string, CsvColumn> {
  const map = new Map<string, CsvColumn>();
  for (const column of csvColumns(kind)) {
    map.set(headerKey(column.header), column);
    map.set(headerKey(publicName(kind, column.field)), column);
  }
  return map;
}

/** Spreadsheets in comma-decimal locales write ';'; pick the separator the header line uses most. */
function sniffDelimiter(text: string): string {
  const header = text.slice(0, text.search(/\r?\n|$/));
  const counts = [',', ';', '\t'].map((d) => [d, header.split(d).length] as const);
  return counts.reduce((best, c) => (c[1] > best[1] ? c : best))[0];
}

/** The line where each record starts: counted from the byte offset where the previous one ended. */
function startLine(bytes: Buffer, from: number, newlinesBefore: { offset: number; count: number }): number {
  let start = from;
  while (start < bytes.length && [0x0a, 0x0d, 0x20, 0x09].includes(bytes[start])) start++;
  for (let i = newlinesBefore.offset; i < start; i++) if (bytes[i] === 0x0a) newlinesBefore.count++;
  newlinesBefore.offset = start;
  return newlinesBefore.count + 1;
}

/**
 * Parses a CSV file of `kind`: a header row (case-insensitive, in any order; only the name column is
 * required) and data rows. Cells go through fromCell (formula guard undone, trimmed). Throws a 422
 * naming the problem for anything that is not a usable file: bad CSV, unknown or repeated columns,
 * no name column, no rows or more than MAX_ROWS.
 */
export function readCsv(kind: InventoryKind, text: string): CsvFile {
  const bytes = Buffer.from(text, 'utf8');
  let records: Array<{ record: string[]; info: { bytes: number } }>;
  try {
    const options = { bom: true, info: true, skip_empty_lines: true, trim: true, relax_column_count: false, delimiter: sniffDelimiter(text) };
    records = parse(bytes, options) as unknown as typeof records;
  } catch (err) {
    throw fileError(`The file is not valid CSV: ${(err as Error).message}.`);
  }
  if (!records.length) throw fileError('The file is empty.');
  const known = columnsByHeader(kind);
  const header = records[0].record;
  const columns: Array<CsvColumn | null> = [];
  const unknown: string[] = [];
  header.forEach((h, i) => {
    const column = known.get(headerKey(h)) ?? null;
    // Trailing columns with no header and no values are spreadsheet leftovers, not data.
    if (!column && !h && records.every((r) => !r.record[i])) return columns.push(null);
    if (!column) unknown.push(h || `(column ${i + 1} has no header)`);
    else if (columns.includes(column)) throw fileError(`The column ${column.header} appears twice.`);
    columns.push(column);
  });
  if (unknown.length) {
    throw fileError(`Unknown column${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. The columns are: ${csvColumns(kind).map((c) => c.header).join(', ')}.`);
  }
  if (!columns.some((c) => c?.field === kind.nameField)) throw fileError(`The file needs a ${kind.nameField} column.`);
  if (records.length === 1) throw fileError('The file has a header but no rows.');
  if (records.length - 1 > MAX_ROWS) throw fileError(`The file has ${records.length - 1} rows; import at most ${MAX_ROWS.toLocaleString('en')} at a time.`);

  const counter = { offset: 0, count: 0 };
  const rows: CsvRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const cells: Record<string, string> = {};
    columns.forEach((column, i) => {
      if (column) cells[column.field] = fromCell(records[r].record[i]);
    });
    rows.push({ line: startLine(bytes, records[r - 1].info.bytes, counter), cells });
  }
  return { columns: columns.filter((c): c is CsvColumn => c !== null), rows };
}

const HINTS: Record<string, string> = {
  node: 'the node’s name in Berth',
  vmid: 'Proxmox VMID, 100–999999999',
  owner: 'a Berth username (only admins may name someone else)',
  ipv4: 'e.g. 10.0.0.12',
  mac: 'e.g. bc:24:11:aa:bb:cc',
  expires: 'YYYY-MM-DD',
  tags: 'comma-separated, e.g. web,prod',
  notes: 'may span several lines (quoted)',
  ai_container: 'Y or N',
  rdp_port: '1–65535',
};

/** The upload page's column list: header, whether it is required, and what it takes. */
export function columnHelp(kind: InventoryKind) {
  return csvColumns(kind).map((c) => ({
    header: c.header,
    required: c.field === kind.nameField,
    hint: c.field === kind.nameField ? 'host name (FQDN); matches an existing record, otherwise creates one' : c.header === 'status' ? kind.statuses.join(', ') : HINTS[c.header] ?? '',
  }));
}
