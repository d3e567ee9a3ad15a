import { UniqueConstraintError, type Transaction } from 'sequelize';
import type { Container, Models, PublicDomain, Service, ServiceType } from '../../models/index.js';
import { changedFields, type Changes } from '../audit/index.js';
import { ConflictError, ForbiddenError, ValidationError } from '../lib/errors.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { domainFor, isEdgeHostname } from './names.js';
import { portRule, portTakenMessage, withFreePort, type PortType } from './ports.js';
import { publishAfterChange, type PublishContext } from './publish.js';

/**
 * The service registry's rules and commands, in one place for the API, the forms and the default
 * services of a new container:
 * - http: a public name (never a port), always served over HTTPS at the edge. A user may take only
 *   `<one label>.<domain>` under a domain users may claim; an admin may take any valid name. A name
 *   another service holds is refused without saying whose it is.
 * - tcp/udp: an external port (never a name) inside the type's range, chosen or the next free one;
 *   TLS (terminated at the edge) for tcp only.
 * The values were already parsed by the route's schema (src/routes/services.schema.ts); the rules
 * here are the ones that depend on the type, the configuration, the domains and the other rows.
 */

/** What a service is made of, as the API and the form give it. */
export interface ServiceInput {
  type: ServiceType;
  internalPort: number;
  externalHostname?: string | undefined;
  externalPort?: number | undefined;
  tls?: boolean | undefined;
}

/** Who asks, as the rules need it (the route passes the policy's answer, commands never ask policies). */
export interface ServiceRules {
  /** Admins may take any valid name, under a domain users may not claim or outside every domain. */
  anyName: boolean;
  /**
   * Admins may expose any container; users only those Berth made, whose address came from Proxmox
   * (an owner may type any address into a record: exposing it would send the edge's traffic to any
   * host the edge can reach, such as a Proxmox node or a database server).
   */
  anyContainer: boolean;
}

/** Refuses a user's service on a container whose address someone typed (see ServiceRules.anyContainer). */
function checkContainer(container: Container, rules: ServiceRules): void {
  if (rules.anyContainer || container.managed) return;
  throw new ForbiddenError(`${container.hostname} was not created by Berth, so its address is what someone typed: only administrators publish its services on the edge.`);
}

/** The publish result of the change (null when nothing was published: see publishEdgeConfig). */
export type Published = Awaited<ReturnType<typeof publishAfterChange>>;

export interface ServiceChange {
  service: Service;
  published: Published;
}

/** The columns a service is written with, after the rules. */
interface ServiceRow {
  type: ServiceType;
  internalPort: number;
  externalHostname: string | null;
  /** null: allocate the lowest free port (tcp/udp); always null for http. */
  externalPort: number | null;
  tls: boolean;
  domainId: number | null;
}

const AUDITED = ['type', 'internalPort', 'externalPort', 'externalHostname', 'tls', 'domainId'];

/** The message for a name another service holds: it never says whose (the ancestor's hijack probed names). */
export const NAME_TAKEN = 'That name is already taken by another service; choose another.';

function invalid(fields: Record<string, string>): ValidationError {
  return new ValidationError('Please correct the highlighted fields.', fields);
}

/** The names users may claim, for the message that refuses another one. */
function claimableList(domains: readonly PublicDomain[]): string {
  const names = domains.filter((d) => d.userClaimable).map((d) => `<name>.${d.name}`);
  return names.length ? `Use one label under ${names.slice(0, 5).join(', ')}.` : 'No domain is open to users yet; ask an admin.';
}

/**
 * Applies the type's rules to parsed input; throws a ValidationError (422) naming each field, or a
 * ConflictError (409) for a name or port another service already holds. `current` is the service
 * being edited (its own name and port are not a clash).
 */
async function decide(cmd: CommandContext, input: ServiceInput, rules: ServiceRules, transaction: Transaction, current: Service | null): Promise<ServiceRow> {
  const { models, config } = cmd;
  const fields: Record<string, string> = {};
  if (input.internalPort < 1 || input.internalPort > 65535 || !Number.isInteger(input.internalPort)) fields.internalPort = 'The internal port is a number from 1 to 65535.';

  if (input.type === 'http') {
    if (input.externalPort !== undefined) fields.externalPort = 'http services are reached by name, not by port: leave the external port empty.';
    const name = input.externalHostname;
    if (name === undefined) fields.externalHostname = 'An http service needs a public name, e.g. app.example.org.';
    else if (!isEdgeHostname(name)) fields.externalHostname = 'Use lower-case letters, digits and hyphens in dot-separated labels (e.g. app.example.org); no spaces or other characters.';
    if (Object.keys(fields).length) throw invalid(fields);
    const domains = await models.PublicDomain.findAll({ transaction });
    const domain = domainFor(name!, domains);
    // A service keeps the name it has (an admin may have given it one users cannot claim).
    const keeps = current?.type === 'http' && current.externalHostname === name;
    if (!rules.anyName && !keeps && !domain?.userClaimable) throw invalid({ externalHostname: `You may not take ${name}. ${claimableList(domains)}` });
    const holder = await models.Service.findOne({ where: { externalHostname: name! }, attributes: ['id'], transaction });
    if (holder && holder.id !== current?.id) throw new ConflictError(NAME_TAKEN, { externalHostname: NAME_TAKEN });
    // Every http service is served over HTTPS (plain http only redirects), so tls is always true.
    return { type: 'http', internalPort: input.internalPort, externalHostname: name!, externalPort: null, tls: true, domainId: domain?.id ?? null };
  }

  const type: PortType = input.type;
  if (input.externalHostname !== undefined) fields.externalHostname = `${type} services are reached by port, not by name: leave the public name empty.`;
  if (type === 'udp' && input.tls) fields.tls = 'TLS is for tcp services only; udp cannot carry it.';
  let port: number | null = input.externalPort ?? null;
  if (port === null && current && current.type === type) port = current.externalPort; // an edit that leaves the port empty keeps it
  if (input.externalPort !== undefined) {
    const rule = portRule(config, type, input.externalPort);
    if (rule) fields.externalPort = rule;
  }
  if (Object.keys(fields).length) throw invalid(fields);
  if (port !== null && port !== current?.externalPort) {
    const holder = await models.Service.findOne({ where: { type, externalPort: port }, attributes: ['id'], transaction });
    if (holder) throw new ConflictError(portTakenMessage(type, port), { externalPort: portTakenMessage(type, port) });
  }
  return { type, internalPort: input.internalPort, externalHostname: null, externalPort: port, tls: type === 'tcp' && input.tls === true, domainId: null };
}

/**
 * Writes `row` (a new service of `container`, or `current` changed): tcp/udp without a port gets the
 * lowest free one. A clash that slipped past decide() (another request won the race) is the same 409.
 */
async function write(models: Models, config: CommandContext['config'], container: Container, row: ServiceRow, current: Service | null, transaction: Transaction): Promise<Service> {
  const save = (externalPort: number | null) =>
    current
      ? current.update({ ...row, externalPort }, { transaction })
      : models.Service.create({ ...row, externalPort, containerId: container.id }, { transaction });
  try {
    if (row.type !== 'http' && row.externalPort === null) return await withFreePort(models, config, row.type, transaction, save);
    return await save(row.externalPort);
  } catch (err) {
    if (!(err instanceof UniqueConstraintError)) throw err;
    if (row.type === 'http') throw new ConflictError(NAME_TAKEN, { externalHostname: NAME_TAKEN });
    const message = portTakenMessage(row.type, row.externalPort!);
    throw new ConflictError(message, { externalPort: message });
  }
}

const snapshot = (s: Service | ServiceRow) => ({ type: s.type, internalPort: s.internalPort, externalPort: s.externalPort, externalHostname: s.externalHostname, tls: Boolean(s.tls), domainId: s.domainId ?? null });

/**
 * A service's event is recorded on its CONTAINER (objectType 'container'), like a credential's: a
 * service lives and dies with its container, and its history is read on the container's page. The
 * service's id is in the changes, so one service's events can still be told apart.
 */
function event(container: Container, action: string, serviceId: { before?: number; after?: number }, changes: Changes) {
  return { action, objectType: 'container', objectId: container.id, objectLabel: container.hostname, changes: { serviceId, ...changes } };
}

/** A short description of a service for publish reasons and messages: "http app.example.org", "tcp 20001". */
export function serviceLabel(s: Pick<Service, 'type' | 'externalHostname' | 'externalPort'>): string {
  return s.type === 'http' ? `http ${s.externalHostname}` : `${s.type} ${s.externalPort}`;
}

/**
 * Registers a service of `container` inside the caller's transaction, audited service.create by the
 * caller's actor. The default services of a new container use it in the create task's transaction;
 * createService wraps it in its own.
 */
export async function addService(cmd: CommandContext, container: Container, input: ServiceInput, rules: ServiceRules, transaction: Transaction): Promise<Service> {
  checkContainer(container, rules);
  const row = await decide(cmd, input, rules, transaction, null);
  const service = await write(cmd.models, cmd.config, container, row, null, transaction);
  await cmd.auditor.record(cmd.actor, event(container, 'service.create', { after: service.id }, changedFields(null, snapshot(service), AUDITED)), transaction);
  return service;
}

/**
 * Publishes after a committed change (a rejected version is a result, not an error). A publish that
 * could not run (lock, nginx missing) is logged and null: the change stands and the runner's re-render
 * publishes it, so the caller never answers 500 for a write that was saved.
 */
function publish(cmd: PublishContext, reason: string): Promise<Published> {
  return publishAfterChange(cmd, { reason });
}

/** Adds a service to `container` (own transaction, audited), then publishes the edge config. */
export async function createService(cmd: CommandContext, container: Container, input: ServiceInput, rules: ServiceRules): Promise<ServiceChange> {
  const service = await inTransaction(cmd, (t) => addService(cmd, container, input, rules, t));
  const published = await publish(cmd, `service ${service.id} added (${serviceLabel(service)} on ${container.hostname})`);
  return { service, published };
}

/**
 * Changes a service of `container` to `input` (every field, as PUT does; an empty external port of a
 * tcp/udp service that keeps its type keeps its port), audited service.update with before/after.
 */
export async function updateService(cmd: CommandContext, container: Container, service: Service, input: ServiceInput, rules: ServiceRules): Promise<ServiceChange> {
  checkContainer(container, rules);
  const updated = await inTransaction(cmd, async (t) => {
    const before = snapshot(service);
    const row = await decide(cmd, input, rules, t, service);
    const saved = await write(cmd.models, cmd.config, container, row, service, t);
    await cmd.auditor.record(cmd.actor, event(container, 'service.update', { before: service.id, after: service.id }, changedFields(before, snapshot(saved), AUDITED)), t);
    return saved;
  });
  const published = await publish(cmd, `service ${updated.id} changed (${serviceLabel(updated)} on ${container.hostname})`);
  return { service: updated, published };
}

/** Removes a service of `container`, audited service.delete with what it was, then publishes. */
export async function deleteService(cmd: CommandContext, container: Container, service: Service): Promise<ServiceChange> {
  await inTransaction(cmd, async (t) => {
    const before = snapshot(service);
    await service.destroy({ transaction: t });
    await cmd.auditor.record(cmd.actor, event(container, 'service.delete', { before: service.id }, changedFields(before, null, AUDITED)), t);
  });
  const published = await publish(cmd, `service ${service.id} removed (${serviceLabel(service)} on ${container.hostname})`);
  return { service, published };
}
