import { Op, type Transaction, type WhereOptions } from 'sequelize';
import type { Models } from '../../models/index.js';
import { normaliseMac } from '../lib/validators.js';
import type { CsvRow } from './csv-read.js';
import { refusedOwners } from './owners.js';
import { KINDS, type InventoryKind, type InventoryRecord } from './kinds.js';

/** A record of either kind holding a unique value (IP, MAC) the file wants. */
export interface Holder {
  kind: InventoryKind;
  record: InventoryRecord;
}

/**
 * Everything planning a file needs from the database, read up front in a handful of IN queries
 * (never one query per row): the records the file names, the nodes, the owners it mentions, and
 * the records holding its IPs, MACs and VMIDs.
 */
export interface ImportLookup {
  /** This kind's records by lower-cased name. */
  existing: Map<string, InventoryRecord>;
  nodeIdByName: Map<string, number>;
  nodeNameById: Map<number, string>;
  /** The file's owner names that the owner rule accepts from an admin (src/inventory/owners.ts): accounts and pending account requests. */
  users: Set<string>;
  /** `ipv4Address:10.0.0.1` / `macAddress:aa:bb:…` → the record (of either kind) holding it. */
  holders: Map<string, Holder>;
  /** This kind's records whose VMID appears in the file or belongs to a record the file names. */
  vmidHolders: InventoryRecord[];
}

/** One column of a record of either kind, read by name. */
export const valueOf = (record: InventoryRecord, field: string): unknown => (record.get() as unknown as Record<string, unknown>)[field];

const distinct = (values: Array<string | undefined>) => [...new Set(values.filter((v): v is string => !!v))];

export async function loadLookup(models: Models, kind: InventoryKind, rows: CsvRow[], transaction?: Transaction): Promise<ImportLookup> {
  const column = (field: string) => rows.map((r) => r.cells[field]);
  const names = distinct(column(kind.nameField).map((n) => n?.toLowerCase()));
  const records = names.length ? await kind.model(models).findAll({ where: { [kind.nameField]: names } as WhereOptions, transaction }) : [];
  const existing = new Map(records.map((r) => [String(r.get(kind.nameField)).toLowerCase(), r]));

  const nodes = await models.Node.findAll({ attributes: ['id', 'name'], transaction });
  const owners = distinct(column('username'));
  const refused = await refusedOwners(models, owners, 'admin', transaction);

  const ips = distinct(column('ipv4Address'));
  const macs = distinct(column('macAddress').map((m) => (m ? normaliseMac(m) : m)));
  const holders = new Map<string, Holder>();
  if (ips.length || macs.length) {
    for (const k of KINDS) {
      const found = await k.model(models).findAll({ where: { [Op.or]: [{ ipv4Address: ips }, { macAddress: macs }] } as WhereOptions, transaction });
      for (const record of found) {
        for (const field of ['ipv4Address', 'macAddress']) {
          const value = valueOf(record, field);
          if (typeof value === 'string' && !holders.has(`${field}:${value}`)) holders.set(`${field}:${value}`, { kind: k, record });
        }
      }
    }
  }

  const vmids = [
    ...new Set([
      ...column('vmid').map(Number).filter((n) => Number.isInteger(n)),
      ...records.map((r) => valueOf(r, 'vmid')).filter((n): n is number => typeof n === 'number'),
    ]),
  ];
  const vmidHolders = vmids.length ? await kind.model(models).findAll({ where: { vmid: vmids } as WhereOptions, transaction }) : [];

  return {
    existing,
    nodeIdByName: new Map(nodes.map((n) => [n.name.toLowerCase(), n.id])),
    nodeNameById: new Map(nodes.map((n) => [n.id, n.name])),
    users: new Set(owners.filter((o) => !refused.has(o))),
    holders,
    vmidHolders,
  };
}
