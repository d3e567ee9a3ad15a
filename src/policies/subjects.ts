import type { Request, RequestHandler, Response } from 'express';
import type { AccountRequest, ApiToken, Container, ContainerRequest, ContainerTemplate, Credential, CsvImport, EdgeConfigVersion, IpPool, Job, Models, Node, OutboxMessage, PublicDomain, Service, User, VirtualMachine } from '../../models/index.js';
import { kindByKey } from '../inventory/kinds.js';
import { NotFoundError } from '../lib/errors.js';
import { authorize, SUBJECT_KINDS, type Action, type Owner, type SubjectKind } from './authorize.js';

/**
 * Routes declare the object they load and the action they need, on the route itself:
 *
 *     router.post('/jobs/:id/cancel', access.user, load.job('change'), cancel);
 *
 * The declaring middleware reads the id from the path, loads the row, calls `authorize()` and leaves
 * the row for the handler (`loaded(res, 'job')`). A missing row, a malformed id and another user's
 * object all answer the same 404, so ids cannot be probed. The declaration is also data: the route
 * table (`listRoutes`) reports it, and the authorization matrix test builds an object of that kind
 * for every route that declares one.
 */
export interface SubjectDeclaration {
  kind: SubjectKind;
  action: Action;
  /** The path parameter holding the object's id. */
  param: string;
  /** For objects inside a container or VM (credentials, CSV imports): that kind, and its id's parameter. */
  parent?: { kind: 'container' | 'vm'; param?: string };
}

/** The rows each kind loads. */
export interface LoadedSubjects {
  job: Job;
  container: Container;
  vm: VirtualMachine;
  credential: Credential;
  csvImport: CsvImport;
  apiToken: ApiToken;
  node: Node;
  user: User;
  accountRequest: AccountRequest;
  containerTemplate: ContainerTemplate;
  ipPool: IpPool;
  containerRequest: ContainerRequest;
  service: Service;
  publicDomain: PublicDomain;
  edgeConfigVersion: EdgeConfigVersion;
  outboxMessage: OutboxMessage;
}

export type LoadMiddleware = RequestHandler & { subject: SubjectDeclaration };

/** The row a route's `load.*` declaration loaded (and the parent container or VM, for nested objects). */
export function loaded<K extends SubjectKind>(res: Response, kind: K): LoadedSubjects[K] {
  const row = (res.locals.subjects as Partial<LoadedSubjects> | undefined)?.[kind];
  // A handler asking for what its route does not declare is a programming error, not a 404.
  if (!row) throw new Error(`the route declares no load.${kind}()`);
  return row as LoadedSubjects[K];
}

/** The id in path parameter `param`, or a 404 for anything that is not a positive whole number. */
function pathId(req: Request, param: string, kind: SubjectKind): number {
  const raw = req.params[param];
  const id = typeof raw === 'string' && /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw new NotFoundError(`No such ${SUBJECT_KINDS[kind].label}.`);
  return id;
}

function keep(res: Response, kind: SubjectKind, row: unknown): void {
  res.locals.subjects = { ...(res.locals.subjects ?? {}), [kind]: row };
}

const byUsername = (row: { username: string | null }): Owner => ({ username: row.username });

/**
 * The `load.<kind>(action)` declarations for a router. Each returns a middleware carrying its
 * declaration (`.subject`), in the way `access.*` carries its level.
 */
export function subjectLoaders(models: Models) {
  function declare(subject: SubjectDeclaration, run: (req: Request, res: Response) => Promise<void>): LoadMiddleware {
    const middleware: RequestHandler = (req, res, next) => {
      run(req, res).then(() => next(), next);
    };
    return Object.assign(middleware, { subject });
  }

  /** A row found by primary key, authorized by its owner, kept for the handler. */
  function simple<K extends SubjectKind>(kind: K, find: (id: number) => Promise<LoadedSubjects[K] | null>, owner: (row: LoadedSubjects[K]) => Owner) {
    return (action: Action = 'view', param = 'id') =>
      declare({ kind, action, param }, async (req, res) => {
        const row = await find(pathId(req, param, kind));
        if (!row) throw new NotFoundError(`No such ${SUBJECT_KINDS[kind].label}.`);
        authorize(req.user, action, { kind, owner: owner(row), id: (row as { id: number }).id });
        keep(res, kind, row);
      });
  }

  /** A container or VM (with its node's id and name, which every record page shows). */
  async function record(req: Request, res: Response, kindKey: 'container' | 'vm', action: Action, param: string) {
    const kind = kindByKey(kindKey)!;
    const row = await kind.model(models).findByPk(pathId(req, param, kindKey), { include: [{ model: models.Node, as: 'node', attributes: ['id', 'name'] }] });
    if (!row) throw new NotFoundError(`No such ${SUBJECT_KINDS[kindKey].label}.`);
    authorize(req.user, action, { kind: kindKey, owner: byUsername(row) });
    keep(res, kindKey, row);
    return row;
  }

  const recordLoader = (kindKey: 'container' | 'vm') => (action: Action = 'view', param = 'id') =>
    declare({ kind: kindKey, action, param }, async (req, res) => {
      await record(req, res, kindKey, action, param);
    });

  return {
    job: simple('job', (id) => models.Job.findByPk(id), (job) => ({ username: job.createdBy })),
    container: recordLoader('container'),
    vm: recordLoader('vm'),
    /** A container's or VM's credential: the record's owner (or an admin) manages it. */
    credential: (parentKind: 'container' | 'vm', action: Action = 'view') =>
      declare({ kind: 'credential', action, param: 'credentialId', parent: { kind: parentKind, param: 'id' } }, async (req, res) => {
        const parent = await record(req, res, parentKind, action, 'id');
        const credential = await models.Credential.findOne({ where: { id: pathId(req, 'credentialId', 'credential'), [kindByKey(parentKind)!.credentialKey]: parent.id } });
        if (!credential) throw new NotFoundError('No such credential.');
        keep(res, 'credential', credential);
      }),
    /** A container's service: the container's owner (or an admin) manages it. */
    service: (action: Action = 'view') =>
      declare({ kind: 'service', action, param: 'serviceId', parent: { kind: 'container', param: 'id' } }, async (req, res) => {
        const parent = await record(req, res, 'container', action, 'id');
        const service = await models.Service.findOne({ where: { id: pathId(req, 'serviceId', 'service'), containerId: parent.id } });
        if (!service) throw new NotFoundError('No such service.');
        keep(res, 'service', service);
      }),
    /** An uploaded CSV file awaiting its apply: the uploader's (or an admin's), and of the page's kind. */
    csvImport: (kindKey: 'container' | 'vm', action: Action = 'view') =>
      declare({ kind: 'csvImport', action, param: 'importId', parent: { kind: kindKey } }, async (req, res) => {
        const row = await models.CsvImport.findByPk(pathId(req, 'importId', 'csvImport'));
        if (!row || row.kind !== kindKey) throw new NotFoundError('No such import.');
        authorize(req.user, action, { kind: 'csvImport', owner: byUsername(row) });
        keep(res, 'csvImport', row);
      }),
    apiToken: simple('apiToken', (id) => models.ApiToken.findByPk(id), (token) => ({ userId: token.userId })),
    node: simple('node', (id) => models.Node.findByPk(id), () => null),
    user: simple('user', (id) => models.User.findByPk(id), () => null),
    accountRequest: simple('accountRequest', (id) => models.AccountRequest.findByPk(id), () => null),
    containerTemplate: simple('containerTemplate', (id) => models.ContainerTemplate.findByPk(id), () => null),
    ipPool: simple('ipPool', (id) => models.IpPool.findByPk(id), () => null),
    containerRequest: simple('containerRequest', (id) => models.ContainerRequest.findByPk(id), () => null),
    publicDomain: simple('publicDomain', (id) => models.PublicDomain.findByPk(id), () => null),
    // Without the body: pages that need it (view, diff) read it themselves.
    edgeConfigVersion: simple('edgeConfigVersion', (id) => models.EdgeConfigVersion.findByPk(id, { attributes: { exclude: ['body'] } }), () => null),
    outboxMessage: simple('outboxMessage', (id) => models.OutboxMessage.findByPk(id), () => null),
  };
}

export type SubjectLoaders = ReturnType<typeof subjectLoaders>;
