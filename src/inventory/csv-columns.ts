import type { InventoryKind } from './kinds.js';

/**
 * The CSV layout of each kind, shared by export and import so an exported file imports back
 * unchanged. `node` is the node's name (not its id) and `owner` the owner's username: what a
 * spreadsheet holds. Headers are matched case-insensitively on import.
 */
export interface CsvColumn {
  header: string;
  /** The record column it maps to; 'node' is resolved to nodeId by name. */
  field: string;
}

const shared = (kind: InventoryKind): CsvColumn[] => [
  { header: kind.nameField, field: kind.nameField },
  { header: 'node', field: 'node' },
  { header: 'vmid', field: kind.vmidField },
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
 * A cell as written to CSV. Text starting with = + - @ (or a tab/CR) is prefixed with ' so a
 * spreadsheet shows it instead of running it as a formula (CSV injection).
 */
export function toCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** A cell as read from CSV: undoes toCell's formula guard; trims. */
export function fromCell(text: string | undefined): string {
  const t = (text ?? '').trim();
  return /^'[=+\-@\t\r]/.test(t) ? t.slice(1) : t;
}
