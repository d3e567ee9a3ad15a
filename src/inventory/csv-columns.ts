import { stringify, type Stringifier } from 'csv-stringify';
import type { InventoryKind } from './kinds.js';

/**
 * The CSV layout of each kind, shared by export and import so an exported file imports back
 * unchanged. `node` is the node's name (not its id) and `owner` the owner's username: what a
 * spreadsheet holds. Headers are matched case-insensitively on import.
 */
export interface CsvColumn {
  header: string;
  /** The model attribute it maps to; 'node' is resolved to nodeId by name. */
  field: string;
}

const shared = (kind: InventoryKind): CsvColumn[] => [
  { header: kind.nameField, field: kind.nameField },
  { header: 'node', field: 'node' },
  { header: 'vmid', field: 'vmid' },
  { header: 'owner', field: 'username' },
  { header: 'ipv4', field: 'ipv4Address' },
  { header: 'mac', field: 'macAddress' },
  { header: 'os', field: kind.osField },
  { header: 'status', field: 'status' },
  { header: 'environment', field: 'environment' },
  { header: 'expires', field: 'expiresAt' },
  { header: 'purpose', field: 'purpose' },
  { header: 'tags', field: 'tags' },
  { header: 'notes', field: 'notes' },
];

export function csvColumns(kind: InventoryKind): CsvColumn[] {
  const extra: CsvColumn = kind.key === 'container' ? { header: 'ai_container', field: 'aiContainer' } : { header: 'rdp_port', field: 'rdpPort' };
  return [...shared(kind), extra];
}

/**
 * The CSV writer of exports. csv-stringify's `escape_formulas` prefixes ' to a cell starting with
 * = + - @ (or a tab/CR, or their full-width forms ＝ ＋ － ＠) so a spreadsheet shows it instead of
 * running it as a formula (CSV injection). Cells are text (toCell), so a negative number is guarded too.
 */
export function csvWriter(): Stringifier {
  return stringify({ escape_formulas: true });
}

/** A value as a CSV cell: '' for none, dates as ISO text. */
export function toCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return value instanceof Date ? value.toISOString() : String(value);
}

/** A cell as read from CSV: undoes csvWriter's formula guard; trims. */
export function fromCell(text: string | undefined): string {
  const t = (text ?? '').trim();
  return /^'[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(t) ? t.slice(1) : t;
}
