import { Router, type Request, type Response } from 'express';
import type { CsvImport } from '../../models/index.js';
import { applyImport, StalePlanError } from '../inventory/csv-apply.js';
import { appliedSummary, checkCsvText, columnHelp, decodeCsvUpload, planImport, publicPlan, uploadCsv, type ImportPlan, type Importer } from '../inventory/csv-import.js';
import { KINDS, type InventoryKind } from '../inventory/kinds.js';
import { ValidationError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { can, mayChangeRecord, mayViewRecord, scope } from '../policies/authorize.js';
import { loaded, subjectLoaders, type SubjectLoaders } from '../policies/subjects.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { cleanFilename, importJsonInput } from './inventory-import.schema.js';
import { formHandler, respond, type FormFailure, type PageAnswer } from './respond.js';

/**
 * CSV import of containers and VMs: upload (stored as a CsvImport), a dry run page showing what each
 * row would do, and apply (src/inventory/csv-apply.ts: one transaction, audited). An upload is seen
 * and applied only by its uploader or an admin (`load.csvImport`). The multipart body is parsed by
 * csvUpload (src/middlewares/upload.ts) before the CSRF check.
 */
export function inventoryImportRoutes(ctx: RouteContext) {
  const router = Router();
  const load = subjectLoaders(ctx.models);
  for (const kind of KINDS) mountKind(router, ctx, load, kind);
  return router;
}

/** The importer is whoever acts: the preview shows what *they* would get by pressing Apply. */
const importerOf = (req: Request): Importer => ({ requester: req.user!, maySetOwner: can(req.user, 'setOwner'), mayChange: mayChangeRecord(req.user), mayView: mayViewRecord(req.user) });

/** The uploaded file: a multipart form's `file`, or a script's JSON `{csv, filename}`. */
function uploadedFile(req: Request): { content: string; filename: string | null } {
  if (req.file) return { content: decodeCsvUpload(req.file.buffer), filename: cleanFilename(req.file.originalname) };
  if (req.is('multipart/form-data')) throw new ValidationError('Choose a CSV file to upload.', { file: 'Choose a CSV file to upload.' });
  const input = parseInput(importJsonInput, req.body);
  return { content: checkCsvText(input.csv), filename: cleanFilename(input.filename) };
}

function mountKind(router: Router, ctx: RouteContext, load: SubjectLoaders, kind: InventoryKind) {
  const { models } = ctx;
  const base = kind.basePath;
  const title = `Import ${kind.plural}`;

  async function renderForm(req: Request, res: Response, status: number, error?: string) {
    // The caller's own recent files, admins included: the form is where one picks up one's own upload.
    const recent = await models.CsvImport.findAll({
      attributes: ['id', 'filename', 'appliedAt', 'createdAt'],
      where: { kind: kind.key, ...scope(req.user!, 'csvImport', { ownOnly: true }) },
      order: [['id', 'DESC']],
      limit: 10,
    });
    res.status(status).render('inventory/import', { title, kind, columns: columnHelp(kind), error, recent: recent.map((r) => r.get({ plain: true })) });
  }

  async function previewPage(upload: CsvImport, plan: ImportPlan | null, error?: string): Promise<PageAnswer> {
    const applied = upload.appliedAt ? await appliedSummary(models, upload) : null;
    return { view: 'inventory/import-preview', locals: { title: `${title}: ${upload.filename ?? 'upload'}`, kind, upload: upload.get({ plain: true }), plan, applied, error } };
  }

  async function newForm(req: Request, res: Response) {
    await renderForm(req, res, 200);
  }

  /** A refused file: the upload form again, with the reason. */
  const rerenderForm = (req: Request, res: Response, failure: FormFailure) => renderForm(req, res, failure.status, failure.error);

  async function upload(req: Request, res: Response) {
    const { upload, plan } = await uploadCsv(commandContext(ctx, req), kind, uploadedFile(req), importerOf(req));
    const location = `${base}/import/${upload.id}`;
    await respond(req, res, { status: 201, location, json: { id: upload.id, plan: publicPlan(plan) }, redirect: location });
  }

  async function show(req: Request, res: Response) {
    const upload = loaded(res, 'csvImport');
    const plan = upload.appliedAt ? null : await planImport(models, kind, upload.content, importerOf(req));
    await respond(req, res, {
      json: async () => ({ id: upload.id, filename: upload.filename, appliedAt: upload.appliedAt, ...(upload.appliedAt ? { applied: await appliedSummary(models, upload) } : { plan: publicPlan(plan!) }) }),
      page: () => previewPage(upload, plan),
    });
  }

  async function apply(req: Request, res: Response) {
    const upload = loaded(res, 'csvImport');
    try {
      const result = await applyImport(commandContext(ctx, req), kind, upload, importerOf(req));
      await respond(req, res, { json: result, flash: { type: 'success', message: `Imported: ${result.created} created, ${result.updated} updated.` }, redirect: base });
    } catch (err) {
      // The file went stale since the preview: both audiences get the plan as it is now.
      if (!(err instanceof StalePlanError)) throw err;
      await respond(req, res, { status: 422, json: { error: err.message, plan: publicPlan(err.plan) }, page: () => previewPage(upload, err.plan, err.message) });
    }
  }

  router.get(`${base}/import`, access.user, newForm);
  router.post(`${base}/import`, access.user, formHandler(upload, rerenderForm));
  router.get(`${base}/import/:importId`, access.user, load.csvImport(kind.key, 'view'), show);
  router.post(`${base}/import/:importId/apply`, access.user, load.csvImport(kind.key, 'change'), apply);
}
