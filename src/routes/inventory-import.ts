import { Router, type Request, type Response } from 'express';
import type { CsvImport } from '../../models/index.js';
import { actorOf } from '../audit/index.js';
import { applyImport, StalePlanError } from '../inventory/csv-apply.js';
import { checkCsvText, columnHelp, decodeCsvUpload, planImport, publicPlan, readCsv, type ImportPlan, type Importer } from '../inventory/csv-import.js';
import { KINDS, type InventoryKind } from '../inventory/kinds.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { flash } from '../middlewares/flash.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import type { RouteContext } from './index.js';
import { cleanFilename, importIdParam, importJsonInput } from './inventory-import.schema.js';

/**
 * CSV import of containers and VMs: upload (stored as a CsvImport), a dry run page showing what each
 * row would do, and apply (src/inventory/csv-apply.ts: one transaction, audited). An upload is seen
 * and applied only by its uploader or an admin. The multipart body is parsed by csvUpload
 * (src/middlewares/upload.ts) before the CSRF check.
 */
export function inventoryImportRoutes(ctx: RouteContext) {
  const router = Router();
  for (const kind of KINDS) mountKind(router, ctx, kind);
  return router;
}

/** The importer is whoever acts: the preview shows what *they* would get by pressing Apply. */
const importerOf = (req: Request): Importer => ({ username: req.user!.username, isAdmin: req.user!.isAdmin });

function mountKind(router: Router, { models, sequelize, auditor }: RouteContext, kind: InventoryKind) {
  const base = kind.basePath;
  const title = `Import ${kind.plural}`;

  /** The upload named by the path, of this kind, if the caller uploaded it or is an admin; 404 otherwise. */
  async function load(req: Request): Promise<CsvImport> {
    const parsed = importIdParam.safeParse(req.params);
    const upload = parsed.success ? await models.CsvImport.findByPk(parsed.data.importId) : null;
    if (!upload || upload.kind !== kind.key || (upload.username !== req.user!.username && !req.user!.isAdmin)) throw new NotFoundError('No such import.');
    return upload;
  }

  async function renderForm(req: Request, res: Response, status: number, error?: string) {
    const recent = await models.CsvImport.findAll({
      attributes: ['id', 'filename', 'appliedAt', 'createdAt'],
      where: { kind: kind.key, username: req.user!.username },
      order: [['id', 'DESC']],
      limit: 10,
    });
    res.status(status).render('inventory/import', { title, kind, columns: columnHelp(kind), error, recent: recent.map((r) => r.get({ plain: true })) });
  }

  async function renderPreview(res: Response, status: number, upload: CsvImport, plan: ImportPlan | null, error?: string) {
    const applied = upload.appliedAt ? await appliedSummary(upload) : null;
    res.status(status).render('inventory/import-preview', { title: `${title}: ${upload.filename ?? 'upload'}`, kind, upload: upload.get({ plain: true }), plan, applied, error });
  }

  /** What the apply did, from its audit event (the import keeps no counts of its own). */
  async function appliedSummary(upload: CsvImport) {
    const event = await models.AuditEvent.findOne({ where: { objectType: 'csv-import', objectId: String(upload.id), action: 'csv-import.apply' }, order: [['id', 'DESC']] });
    const changes = event?.changes ? (JSON.parse(event.changes) as Record<string, { after?: number }>) : {};
    return { at: upload.appliedAt, by: event?.actor ?? null, created: changes.created?.after ?? 0, updated: changes.updated?.after ?? 0 };
  }

  router.get(`${base}/import`, access.user, async (req, res) => {
    await renderForm(req, res, 200);
  });

  router.post(`${base}/import`, access.user, async (req, res) => {
    let content: string;
    let filename: string | null;
    try {
      if (req.file) {
        content = decodeCsvUpload(req.file.buffer);
        filename = cleanFilename(req.file.originalname);
      } else if (req.is('multipart/form-data')) {
        throw new ValidationError('Choose a CSV file to upload.', { file: 'Choose a CSV file to upload.' });
      } else {
        const input = parseInput(importJsonInput, req.body);
        content = checkCsvText(input.csv);
        filename = cleanFilename(input.filename);
      }
      readCsv(kind, content); // refuses a file that is not a usable CSV of this kind before storing it
    } catch (err) {
      if (err instanceof ValidationError && !wantsJson(req)) return renderForm(req, res, 422, err.message);
      throw err;
    }
    const plan = await planImport(models, kind, content, importerOf(req));
    const upload = await sequelize.transaction(async (transaction) => {
      const row = await models.CsvImport.create({ kind: kind.key, username: req.user!.username, filename, content, appliedAt: null }, { transaction });
      await auditor.record(
        actorOf(req),
        { action: 'csv-import.upload', objectType: 'csv-import', objectId: row.id, objectLabel: `${kind.plural}: ${filename ?? 'upload'}`, changes: { rows: { after: plan.rows.length }, filename: { after: filename } } },
        transaction,
      );
      return row;
    });
    const location = `${base}/import/${upload.id}`;
    if (wantsJson(req)) return res.status(201).location(location).json({ id: upload.id, plan: publicPlan(plan) });
    res.redirect(303, location);
  });

  router.get(`${base}/import/:importId`, access.user, async (req, res) => {
    const upload = await load(req);
    const plan = upload.appliedAt ? null : await planImport(models, kind, upload.content, importerOf(req));
    if (wantsJson(req)) {
      return res.json({ id: upload.id, filename: upload.filename, appliedAt: upload.appliedAt, ...(upload.appliedAt ? { applied: await appliedSummary(upload) } : { plan: publicPlan(plan!) }) });
    }
    await renderPreview(res, 200, upload, plan);
  });

  router.post(`${base}/import/:importId/apply`, access.user, async (req, res) => {
    const upload = await load(req);
    try {
      const result = await applyImport({ models, sequelize, auditor }, kind, upload, importerOf(req), actorOf(req));
      if (wantsJson(req)) return res.json(result);
      flash(req, 'success', `Imported: ${result.created} created, ${result.updated} updated.`);
      res.redirect(303, base);
    } catch (err) {
      if (!(err instanceof StalePlanError)) throw err;
      if (wantsJson(req)) return res.status(422).json({ error: err.message, plan: publicPlan(err.plan) });
      await renderPreview(res, 422, upload, err.plan, err.message);
    }
  });
}
