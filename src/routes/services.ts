import { Router, type Request, type Response } from 'express';
import type { Container, Service } from '../../models/index.js';
import { createService, deleteService, serviceLabel, updateService, type Published, type ServiceRules } from '../edge/services.js';
import { parseInput } from '../lib/parse-input.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { access } from '../policies/access.js';
import { can } from '../policies/authorize.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { listServices, presentServices, serviceFormHints, serviceFormValues, submittedServiceValues, type ServiceFormValues } from '../presenters/services.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { serviceInput } from './services.schema.js';
import { formHandler, respond, type FormFailure, type PageAnswer } from './respond.js';

/**
 * The flash after a change: what was done, and, when the edge config with it failed nginx -t, that
 * the edge keeps serving the last good version (the admin's edge page shows nginx's words).
 */
function changeFlash(message: string, published: Published): { type: 'success' | 'error'; message: string } {
  if (published?.version.status === 'rejected') {
    return { type: 'error', message: `${message} The edge config with it failed nginx -t, so the edge keeps the last good version; an admin sees why on the edge page.` };
  }
  return { type: 'success', message };
}

/** What a services page shows about a refused form: the summary, the field messages, what was typed. */
interface ServiceForm {
  error: string | null;
  fields: Record<string, string>;
  values: ServiceFormValues;
}

/**
 * A container's services (the ports it exposes through the edge): list, add, change, remove, as JSON
 * and as forms. The container's page shows them with the add form; a refused add comes back on a
 * services page of its own, and each service has an edit page. Owners manage their containers'
 * services, admins all; anyone else gets a 404 (load.container / load.service).
 */
export function serviceRoutes(ctx: RouteContext) {
  const { models, config } = ctx;
  const load = subjectLoaders(models);
  const containerPath = (c: Container) => `/containers/${c.id}`;
  const servicePath = (c: Container, s: Service) => `/containers/${c.id}/services/${s.id}`;

  /** Whoever may manage the public domains (admins) may take any valid name; users only claimable ones. */
  const rules = (req: Request): ServiceRules => ({ anyName: can(req.user, 'change', { kind: 'publicDomain', owner: null }), anyContainer: can(req.user, 'operateUnmanaged') });

  const present = async (s: Service) => (await presentServices(models, [s]))[0]!;

  /** The services panel on a page of its own: where a refused add form comes back. */
  async function panelPage(req: Request, container: Container, form: ServiceForm, status = 200): Promise<PageAnswer> {
    return {
      view: 'services/index',
      status,
      locals: {
        title: `Services · ${container.hostname}`,
        record: { id: container.id, name: container.hostname },
        services: await listServices(models, container.id),
        canEdit: can(req.user, 'change', { kind: 'container', owner: { username: container.username } }),
        hints: await serviceFormHints(models, config),
        serviceForm: form,
      },
    };
  }

  async function editPage(container: Container, service: Service, form: ServiceForm, status = 200): Promise<PageAnswer> {
    return {
      view: 'services/edit',
      status,
      locals: {
        title: `${serviceLabel(service)} · ${container.hostname}`,
        record: { id: container.id, name: container.hostname },
        service: await present(service),
        hints: await serviceFormHints(models, config),
        serviceForm: form,
      },
    };
  }

  /** GET: JSON for API clients; a browser sees the services on the container's page. */
  async function list(req: Request, res: Response) {
    const container = loaded(res, 'container');
    if (!wantsJson(req)) return res.redirect(303, `${containerPath(container)}#services`);
    res.json({ services: await listServices(models, container.id) });
  }

  async function create(req: Request, res: Response) {
    const container = loaded(res, 'container');
    const { service, published } = await createService(commandContext(ctx, req), container, parseInput(serviceInput, req.body), rules(req));
    await respond(req, res, {
      status: 201,
      location: servicePath(container, service),
      json: () => present(service),
      flash: changeFlash(`Service ${serviceLabel(service)} added; the edge picks it up on its next pull.`, published),
      redirect: `${containerPath(container)}#services`,
    });
  }

  async function rerenderPanel(req: Request, res: Response, failure: FormFailure) {
    const form = { error: failure.error, fields: failure.fields, values: submittedServiceValues(failure.values) };
    const page = await panelPage(req, loaded(res, 'container'), form, failure.status);
    res.status(failure.status).render(page.view, page.locals);
  }

  async function show(req: Request, res: Response) {
    const container = loaded(res, 'container');
    const service = loaded(res, 'service');
    await respond(req, res, {
      json: () => present(service),
      page: () => editPage(container, service, { error: null, fields: {}, values: serviceFormValues(service) }),
    });
  }

  async function update(req: Request, res: Response) {
    const container = loaded(res, 'container');
    const { service, published } = await updateService(commandContext(ctx, req), container, loaded(res, 'service'), parseInput(serviceInput, req.body), rules(req));
    await respond(req, res, {
      json: () => present(service),
      flash: changeFlash(`Service ${serviceLabel(service)} saved.`, published),
      redirect: `${containerPath(container)}#services`,
    });
  }

  async function rerenderEdit(_req: Request, res: Response, failure: FormFailure) {
    const container = loaded(res, 'container');
    // The row as stored (a refused update may have set attributes on the loaded instance).
    const stored = (await models.Service.findByPk(loaded(res, 'service').id)) ?? loaded(res, 'service');
    const page = await editPage(container, stored, { error: failure.error, fields: failure.fields, values: submittedServiceValues(failure.values) }, failure.status);
    res.status(failure.status).render(page.view, page.locals);
  }

  async function destroy(req: Request, res: Response) {
    const container = loaded(res, 'container');
    const { service } = await deleteService(commandContext(ctx, req), container, loaded(res, 'service'));
    const message = `Service ${serviceLabel(service)} removed.`;
    await respond(req, res, { json: { success: true, message }, flash: { type: 'success', message }, redirect: `${containerPath(container)}#services` });
  }

  const router = Router();
  router.get('/containers/:id/services', access.user, load.container('view'), list);
  router.post('/containers/:id/services', access.user, load.container('change'), formHandler(create, rerenderPanel));
  router.get('/containers/:id/services/:serviceId', access.user, load.service('view'), show);
  router.put('/containers/:id/services/:serviceId', access.user, load.service('change'), update);
  router.post('/containers/:id/services/:serviceId', access.user, load.service('change'), formHandler(update, rerenderEdit));
  router.delete('/containers/:id/services/:serviceId', access.user, load.service('change'), destroy);
  router.post('/containers/:id/services/:serviceId/delete', access.user, load.service('change'), destroy);
  return router;
}
