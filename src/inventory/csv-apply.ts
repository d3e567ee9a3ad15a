import type { CsvImport } from '../../models/index.js';
import { AppError, ConflictError } from '../lib/errors.js';
import { planImport, type ImportPlan, type Importer } from './csv-import.js';
import type { InventoryKind, InventoryRecord } from './kinds.js';
import { OwnerCheck } from './owners.js';
import { createRecord, updateRecord } from './records.js';
import { inTransaction, type CommandContext } from '../services/context.js';

/** Applying was refused because the file, planned again now, has row errors; carries that plan. */
export class StalePlanError extends AppError {
  override readonly status = 422;
  constructor(readonly plan: ImportPlan) {
    super('The file has errors against the inventory as it is now; nothing was imported. Fix the file and upload it again.');
  }
}

export interface ApplyResult {
  created: number;
  updated: number;
}

/**
 * Applies an uploaded file in ONE transaction: marks the upload applied (so it applies once, even
 * with two clicks at once: the conditional UPDATE is the claim), plans the stored content again
 * against the database as it is now, and writes every row through createRecord/updateRecord (each
 * audited as `<kind>.create|update` by the importer) plus one `csv-import.apply` summary event.
 * Any error rolls everything back: a file is imported whole or not at all.
 */
export async function applyImport(cmd: CommandContext, kind: InventoryKind, upload: CsvImport, importer: Importer): Promise<ApplyResult> {
  const { models } = cmd;
  return inTransaction(cmd, async (transaction) => {
    const [claimed] = await models.CsvImport.update({ appliedAt: new Date() }, { where: { id: upload.id, appliedAt: null }, transaction });
    if (!claimed) throw new ConflictError('This file was already imported.');
    const plan = await planImport(models, kind, upload.content, importer, transaction);
    if (!plan.ok) throw new StalePlanError(plan);

    const ids = plan.rows.filter((r) => r.action === 'update').map((r) => r.recordId!);
    const records = new Map<number, InventoryRecord>();
    if (ids.length) for (const r of await kind.model(models).findAll({ where: { id: ids }, transaction })) records.set(r.id, r);

    const result: ApplyResult = { created: 0, updated: 0 };
    // The plan checked the owners; the writes check them again under this transaction, one lookup per name.
    const owners = new OwnerCheck(models, importer.maySetOwner ? 'admin' : 'account');
    for (const row of plan.rows) {
      try {
        if (row.action === 'create') {
          await createRecord(cmd, kind, row.fields, { transaction, mayView: importer.mayView, owners });
          result.created++;
        } else if (row.action === 'update') {
          await updateRecord(cmd, kind, records.get(row.recordId!)!, row.fields, { transaction, mayView: importer.mayView, owners });
          result.updated++;
        }
      } catch (err) {
        // Say which line failed; the transaction rolls back every row before it.
        if (err instanceof AppError && err.status < 500) throw new ConflictError(`Line ${row.line} (${row.name}): ${err.message} Nothing was imported.`, err.fields);
        throw err;
      }
    }
    await cmd.auditor.record(
      cmd.actor,
      {
        action: 'csv-import.apply',
        objectType: 'csv-import',
        objectId: upload.id,
        objectLabel: `${kind.plural}: ${upload.filename ?? 'upload'}`,
        changes: { created: { after: result.created }, updated: { after: result.updated } },
      },
      transaction,
    );
    return result;
  });
}
