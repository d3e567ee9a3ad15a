import { Router, type Request, type Response } from 'express';
import type { Models, PublicDomain } from '../../models/index.js';
import { createDomain, deleteDomain, setDefaultDomain, updateDomain } from '../edge/domains.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { domainFormValues, presentDomain, submittedDomainValues, type DomainFormValues } from '../presenters/services.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { domainInput } from './domains.schema.js';
import { formHandler, respond, type FormFailure, type PageAnswer } from './respond.js';

interface DomainForm {
  error: string | null;
  fields: Record<string, string>;
  values: DomainFormValues;
}

const clean = (values: DomainFormValues): DomainForm => ({ error: null, fields: {}, values });
const refused = (failure: FormFailure): DomainForm => ({ error: failure.error, fields: failure.fields, values: submittedDomainValues(failure.values) });

/** The domains with how many services use each (one grouped count, whatever their number). */
async function domainViews(models: Models) {
  const [domains, counts] = await Promise.all([
    models.PublicDomain.findAll({ order: [['name', 'ASC']], limit: 10_000 }),
    models.Service.count({ where: { type: 'http' }, group: ['domainId'] }),
  ]);
  const used = new Map<number, number>(counts.filter((c) => c.domainId != null).map((c) => [Number(c.domainId), Number(c.count)]));
  return domains.map((d) => presentDomain(d, used.get(d.id) ?? 0));
}

/**
 * Public domains (admin): the domains http services take names under, with their certificate and key
 * paths on the edge, whether users may claim names under them, and the default one (new containers'
 * http services). Each change is audited and publishes the edge config (src/edge/domains.ts).
 */
export function domainRoutes(ctx: RouteContext) {
  const { models } = ctx;
  const load = subjectLoaders(models);

  async function listPage(form: DomainForm, status = 200): Promise<PageAnswer> {
    return { view: 'domains/index', status, locals: { title: 'Public domains', domains: await domainViews(models), domainForm: form } };
  }

  async function editPage(domain: PublicDomain, form: DomainForm, status = 200): Promise<PageAnswer> {
    const view = (await domainViews(models)).find((d) => d.id === domain.id) ?? presentDomain(domain);
    return { view: 'domains/edit', status, locals: { title: `Domain ${domain.name}`, domain: view, domainForm: form } };
  }

  async function list(req: Request, res: Response) {
    await respond(req, res, { json: async () => ({ domains: await domainViews(models) }), page: () => listPage(clean(domainFormValues(null))) });
  }

  async function create(req: Request, res: Response) {
    const { domain } = await createDomain(commandContext(ctx, req), parseInput(domainInput, req.body));
    await respond(req, res, {
      status: 201,
      location: `/admin/domains/${domain.id}`,
      json: { domain: presentDomain(domain) },
      flash: { type: 'success', message: `Domain ${domain.name} added.` },
      redirect: '/admin/domains',
    });
  }

  async function rerenderList(_req: Request, res: Response, failure: FormFailure) {
    const page = await listPage(refused(failure), failure.status);
    res.status(failure.status).render(page.view, page.locals);
  }

  async function show(req: Request, res: Response) {
    const domain = loaded(res, 'publicDomain');
    await respond(req, res, {
      json: async () => ({ domain: (await domainViews(models)).find((d) => d.id === domain.id) }),
      page: () => editPage(domain, clean(domainFormValues(domain))),
    });
  }

  async function update(req: Request, res: Response) {
    const { domain } = await updateDomain(commandContext(ctx, req), loaded(res, 'publicDomain'), parseInput(domainInput, req.body));
    await respond(req, res, { json: { domain: presentDomain(domain) }, flash: { type: 'success', message: `Domain ${domain.name} saved.` }, redirect: '/admin/domains' });
  }

  async function rerenderEdit(_req: Request, res: Response, failure: FormFailure) {
    const stored = (await models.PublicDomain.findByPk(loaded(res, 'publicDomain').id)) ?? loaded(res, 'publicDomain');
    const page = await editPage(stored, refused(failure), failure.status);
    res.status(failure.status).render(page.view, page.locals);
  }

  async function destroy(req: Request, res: Response) {
    const { domain } = await deleteDomain(commandContext(ctx, req), loaded(res, 'publicDomain'));
    const message = `Domain ${domain.name} deleted.`;
    await respond(req, res, { json: { success: true, message }, flash: { type: 'success', message }, redirect: '/admin/domains' });
  }

  /** A refused delete (services still use the domain) comes back on the list with its message. */
  async function rerenderDelete(_req: Request, res: Response, failure: FormFailure) {
    const page = await listPage({ ...clean(domainFormValues(null)), error: failure.error }, failure.status);
    res.status(failure.status).render(page.view, page.locals);
  }

  async function makeDefault(req: Request, res: Response) {
    const { domain } = await setDefaultDomain(commandContext(ctx, req), loaded(res, 'publicDomain'));
    const message = `${domain.name} is now the default domain: new containers get their http service under it.`;
    await respond(req, res, { json: { domain: presentDomain(domain), message }, flash: { type: 'success', message }, redirect: '/admin/domains' });
  }

  const router = Router();
  router.get('/admin/domains', access.admin, list);
  router.post('/admin/domains', access.admin, formHandler(create, rerenderList));
  router.get('/admin/domains/:domainId', access.admin, load.publicDomain('view', 'domainId'), show);
  router.post('/admin/domains/:domainId', access.admin, load.publicDomain('change', 'domainId'), formHandler(update, rerenderEdit));
  router.post('/admin/domains/:domainId/delete', access.admin, load.publicDomain('change', 'domainId'), formHandler(destroy, rerenderDelete));
  router.post('/admin/domains/:domainId/default', access.admin, load.publicDomain('change', 'domainId'), makeDefault);
  return router;
}
