import { Router, type Request, type Response } from 'express';
import { actorOf } from '../audit/index.js';
import { KINDS, recordName, vmKind, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { idParam } from '../lib/validators.js';
import { AppError, ConflictError } from '../lib/errors.js';
import { buildRdpFile, DEFAULT_RDP_PORT, rdpFilename } from '../lib/rdp.js';
import { hostname } from '../lib/validators.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { flash } from '../middlewares/flash.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { canEditRecord, visibleRecordOrNotFound } from '../policies/inventory.js';
import { listCredentials } from '../presenters/credential.js';
import { addCredential, deleteCredential, findCredential, revealCredential } from '../services/credentials.js';
import { credentialInput, credentialParams, rdpQuery } from './credentials.schema.js';
import type { RouteContext } from './index.js';

/**
 * The credential vault's routes, for containers and VMs alike: a credentials page (the same panel
 * the detail page shows), add, reveal (a deliberate, audited POST), delete; and the .rdp download for
 * VMs. Another user's record, or a credential of another record, is a 404.
 */
export function credentialRoutes({ models, sequelize, auditor, vault }: RouteContext) {
  const router = Router();
  const deps = { models, sequelize, auditor, vault };

  async function loadRecord(req: Request, kind: InventoryKind): Promise<InventoryRecord> {
    const { id } = parseInput(idParam, { id: req.params.id });
    return visibleRecordOrNotFound(req.user, kind, await kind.model(models).findByPk(id));
  }

  async function loadCredential(req: Request, kind: InventoryKind) {
    const { id, credentialId } = parseInput(credentialParams, req.params);
    const record = visibleRecordOrNotFound(req.user, kind, await kind.model(models).findByPk(id));
    return { record, credential: await findCredential(models, kind, record, credentialId) };
  }

  /** The credentials panel on a page of its own (also where a failed add form is re-rendered). */
  async function renderPanel(req: Request, res: Response, kind: InventoryKind, record: InventoryRecord, status = 200, form: { errors?: Record<string, string>; values?: Record<string, unknown>; error?: string } = {}) {
    const name = recordName(kind, record);
    res.status(status).render('inventory/credentials', {
      title: `Credentials · ${name}`,
      kind,
      record: { id: record.id, name, ipv4Address: record.ipv4Address },
      credentials: await listCredentials(models, kind, record.id),
      canEdit: canEditRecord(req.user, record),
      credentialForm: form,
    });
  }

  const detailPath = (kind: InventoryKind, record: InventoryRecord) => `${kind.basePath}/${record.id}`;

  for (const kind of KINDS) {
    const base = kind.basePath;

    router.get(`${base}/:id/credentials`, access.user, async (req, res) => {
      const record = await loadRecord(req, kind);
      if (wantsJson(req)) return res.json({ credentials: await listCredentials(models, kind, record.id) });
      await renderPanel(req, res, kind, record);
    });

    router.post(`${base}/:id/credentials`, access.user, async (req, res) => {
      const record = await loadRecord(req, kind);
      let credential;
      try {
        credential = await addCredential(deps, kind, record, parseInput(credentialInput, req.body), actorOf(req));
      } catch (err) {
        // The form comes back with its messages and the non-secret values; the password and key are retyped.
        if (err instanceof AppError && !wantsJson(req)) {
          const body = (req.body ?? {}) as Record<string, unknown>;
          return renderPanel(req, res, kind, record, err.status, { errors: err.fields ?? {}, error: err.message, values: { label: body.label, username: body.username } });
        }
        throw err;
      }
      if (wantsJson(req)) return res.status(201).location(`${base}/${record.id}/credentials`).json({ id: credential.id });
      flash(req, 'success', `Credential "${credential.label}" added.`);
      res.redirect(303, detailPath(kind, record));
    });

    router.post(`${base}/:id/credentials/:credentialId/reveal`, access.user, async (req, res) => {
      const { record, credential } = await loadCredential(req, kind);
      const revealed = await revealCredential(deps, kind, record, credential, actorOf(req));
      res.setHeader('Cache-Control', 'no-store');
      if (wantsJson(req)) return res.json({ username: revealed.username, password: revealed.password, sshKey: revealed.sshKey });
      res.render('inventory/credential-reveal', {
        title: `Credential ${revealed.label} · ${recordName(kind, record)}`,
        kind,
        record: { id: record.id, name: recordName(kind, record) },
        credential: revealed,
      });
    });

    const destroy = async (req: Request, res: Response) => {
      const { record, credential } = await loadCredential(req, kind);
      await deleteCredential(deps, kind, record, credential, actorOf(req));
      if (wantsJson(req)) return res.json({ success: true });
      flash(req, 'success', `Credential "${credential.label}" deleted.`);
      res.redirect(303, detailPath(kind, record));
    };
    router.post(`${base}/:id/credentials/:credentialId/delete`, access.user, destroy);
    router.delete(`${base}/:id/credentials/:credentialId`, access.user, destroy);
  }

  // Containers get an ssh:// link instead (rendered in the panel); this path exists for VMs only.
  router.get('/vms/:id/rdp', access.user, async (req, res) => {
    const vm = await loadRecord(req, vmKind);
    const query = parseInput(rdpQuery, req.query);
    const credential = query.credential
      ? await findCredential(models, vmKind, vm, query.credential)
      : await models.Credential.findOne({ where: { virtualMachineId: vm.id }, attributes: ['id', 'username'], order: [['label', 'ASC'], ['id', 'ASC']] });
    const name = recordName(vmKind, vm);
    const host = vm.ipv4Address || (hostname.safeParse(name).success ? name : null);
    if (!host) throw new ConflictError(`${name} has neither an IPv4 address nor a valid host name to connect to; set its IP address first.`);
    const port = (vm.get('rdpPort') as number | null) ?? DEFAULT_RDP_PORT;
    const file = buildRdpFile({ host, port, username: credential?.username ?? null });
    res.setHeader('Content-Type', 'application/x-rdp; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${rdpFilename(name)}"`);
    res.setHeader('Cache-Control', 'no-store');
    res.send(file);
  });

  return router;
}
