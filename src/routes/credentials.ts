import { Router, type Request, type Response } from 'express';
import { KINDS, recordName, vmKind, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { ConflictError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { buildRdpFile, DEFAULT_RDP_PORT, rdpFilename } from '../lib/rdp.js';
import { hostname } from '../lib/validators.js';
import { access } from '../policies/access.js';
import { can } from '../policies/authorize.js';
import { loaded, subjectLoaders, type SubjectLoaders } from '../policies/subjects.js';
import { listCredentials } from '../presenters/credential.js';
import { addCredential, deleteCredential, findCredential, revealCredential } from '../services/credentials.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { credentialInput, rdpQuery } from './credentials.schema.js';
import { formHandler, respond, type FormFailure, type PageAnswer } from './respond.js';

/**
 * The credential vault's routes, for containers and VMs alike: a credentials page (the same panel
 * the detail page shows), add, reveal (a deliberate, audited POST), delete; and the .rdp download for
 * VMs. Another user's record, or a credential of another record, is a 404 (`load.credential`).
 */
export function credentialRoutes(ctx: RouteContext) {
  const { models } = ctx;
  const load = subjectLoaders(models);
  const router = Router();
  for (const kind of KINDS) mountKind(router, ctx, load, kind);

  /** GET /vms/:id/rdp: a Remote Desktop file for the VM (containers get an ssh:// link in the panel instead). */
  async function rdpFile(req: Request, res: Response) {
    const vm = loaded(res, 'vm');
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
  }

  router.get('/vms/:id/rdp', access.user, load.vm('view'), rdpFile);
  return router;
}

function mountKind(router: Router, ctx: RouteContext, load: SubjectLoaders, kind: InventoryKind) {
  const { models } = ctx;
  const base = kind.basePath;
  const loadRecord = load[kind.key];
  const detailPath = (record: InventoryRecord) => `${base}/${record.id}`;

  /** The credentials panel on a page of its own (also where a failed add form comes back). */
  async function panelPage(req: Request, res: Response, form: { errors?: Record<string, string>; values?: Record<string, unknown>; error?: string } = {}): Promise<PageAnswer> {
    const record = loaded(res, kind.key);
    const name = recordName(kind, record);
    return {
      view: 'inventory/credentials',
      locals: {
        title: `Credentials · ${name}`,
        kind,
        record: { id: record.id, name, ipv4Address: record.ipv4Address },
        credentials: await listCredentials(models, kind, record.id),
        canEdit: can(req.user, 'change', { kind: kind.key, owner: { username: record.username } }),
        credentialForm: form,
      },
    };
  }

  /** The add form comes back with its messages and the non-secret values; the password and key are retyped. */
  async function rerenderPanel(req: Request, res: Response, failure: FormFailure) {
    const page = await panelPage(req, res, { errors: failure.fields, error: failure.error, values: { label: failure.values.label, username: failure.values.username } });
    res.status(failure.status).render(page.view, page.locals);
  }

  async function list(req: Request, res: Response) {
    const record = loaded(res, kind.key);
    await respond(req, res, { json: async () => ({ credentials: await listCredentials(models, kind, record.id) }), page: () => panelPage(req, res) });
  }

  async function create(req: Request, res: Response) {
    const record = loaded(res, kind.key);
    const credential = await addCredential(commandContext(ctx, req), kind, record, parseInput(credentialInput, req.body));
    await respond(req, res, {
      status: 201,
      location: `${base}/${record.id}/credentials`,
      json: { id: credential.id },
      flash: { type: 'success', message: `Credential "${credential.label}" added.` },
      redirect: detailPath(record),
    });
  }

  async function reveal(req: Request, res: Response) {
    const record = loaded(res, kind.key);
    const revealed = await revealCredential(commandContext(ctx, req), kind, record, loaded(res, 'credential'));
    res.setHeader('Cache-Control', 'no-store');
    await respond(req, res, {
      json: { username: revealed.username, password: revealed.password, sshKey: revealed.sshKey },
      page: {
        view: 'inventory/credential-reveal',
        locals: { title: `Credential ${revealed.label} · ${recordName(kind, record)}`, kind, record: { id: record.id, name: recordName(kind, record) }, credential: revealed },
      },
    });
  }

  async function destroy(req: Request, res: Response) {
    const record = loaded(res, kind.key);
    const credential = loaded(res, 'credential');
    await deleteCredential(commandContext(ctx, req), kind, record, credential);
    await respond(req, res, { json: { success: true }, flash: { type: 'success', message: `Credential "${credential.label}" deleted.` }, redirect: detailPath(record) });
  }

  router.get(`${base}/:id/credentials`, access.user, loadRecord('view'), list);
  router.post(`${base}/:id/credentials`, access.user, loadRecord('change'), formHandler(create, rerenderPanel));
  router.post(`${base}/:id/credentials/:credentialId/reveal`, access.user, load.credential(kind.key, 'change'), reveal);
  router.post(`${base}/:id/credentials/:credentialId/delete`, access.user, load.credential(kind.key, 'change'), destroy);
  router.delete(`${base}/:id/credentials/:credentialId`, access.user, load.credential(kind.key, 'change'), destroy);
}
