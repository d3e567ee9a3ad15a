import type { Config } from '../../config/index.js';
import type { Models, PublicDomain, Service } from '../../models/index.js';
import { portRange } from '../edge/ports.js';
import { isTicked } from '../lib/validators.js';

/** A service as pages and the API show it. */
export interface ServiceView {
  id: number;
  containerId: number;
  type: Service['type'];
  internalPort: number;
  externalPort: number | null;
  externalHostname: string | null;
  tls: boolean;
  /** The domain an http service's name sits under; null outside every domain and for tcp/udp. */
  domain: string | null;
  /** https://<name> for http services (always HTTPS at the edge); null for tcp/udp. */
  url: string | null;
  /** `<edge host>:<port>` for tcp/udp services (the edge host is the default domain); null for http or without a default domain. */
  address: string | null;
}

/** A service for pages and JSON. `domains` maps domain ids to names; `edgeHost` names the edge for tcp/udp addresses. */
export function presentService(s: Service, domains: ReadonlyMap<number, string> = new Map(), edgeHost: string | null = null): ServiceView {
  const http = s.type === 'http';
  return {
    id: s.id,
    containerId: s.containerId,
    type: s.type,
    internalPort: s.internalPort,
    externalPort: s.externalPort,
    externalHostname: s.externalHostname,
    tls: Boolean(s.tls),
    domain: s.domainId == null ? null : (domains.get(s.domainId) ?? null),
    url: http && s.externalHostname ? `https://${s.externalHostname}` : null,
    address: !http && edgeHost && s.externalPort !== null ? `${edgeHost}:${s.externalPort}` : null,
  };
}

/** The domains' names by id and the edge host (the default domain), for presentService. */
async function presentationContext(models: Models): Promise<{ names: Map<number, string>; edgeHost: string | null }> {
  const domains: PublicDomain[] = await models.PublicDomain.findAll({ attributes: ['id', 'name', 'isDefault'], order: [['name', 'ASC']] });
  return { names: new Map(domains.map((d) => [d.id, d.name])), edgeHost: domains.find((d) => d.isDefault)?.name ?? null };
}

/** Presents `services` (one query for the domains, whatever their number). */
export async function presentServices(models: Models, services: Service[]): Promise<ServiceView[]> {
  const { names, edgeHost } = await presentationContext(models);
  return services.map((s) => presentService(s, names, edgeHost));
}

/** A container's services, in the order they were added. */
export async function listServices(models: Models, containerId: number): Promise<ServiceView[]> {
  return presentServices(models, await models.Service.findAll({ where: { containerId }, order: [['id', 'ASC']] }));
}

/** What the add/edit form needs besides the values: the names users may claim and the port ranges. */
export async function serviceFormHints(models: Models, config: Config) {
  const claimable = await models.PublicDomain.findAll({ where: { userClaimable: true }, attributes: ['name'], order: [['name', 'ASC']], limit: 50 });
  const [tcpFrom, tcpTo] = portRange(config, 'tcp');
  const [udpFrom, udpTo] = portRange(config, 'udp');
  return { claimableDomains: claimable.map((d) => d.name), tcpPorts: `${tcpFrom}-${tcpTo}`, udpPorts: `${udpFrom}-${udpTo}` };
}

/** A service's form fields as text ('' for none), from the row or from what was submitted. */
export interface ServiceFormValues {
  type: string;
  internalPort: string;
  externalHostname: string;
  externalPort: string;
  tls: boolean;
}

const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

export function serviceFormValues(s: Service | null): ServiceFormValues {
  if (!s) return { type: 'http', internalPort: '', externalHostname: '', externalPort: '', tls: false };
  return { type: s.type, internalPort: String(s.internalPort), externalHostname: s.externalHostname ?? '', externalPort: s.externalPort === null ? '' : String(s.externalPort), tls: Boolean(s.tls) };
}

export function submittedServiceValues(body: Record<string, unknown>): ServiceFormValues {
  return { type: text(body.type), internalPort: text(body.internalPort), externalHostname: text(body.externalHostname), externalPort: text(body.externalPort), tls: isTicked(body.tls) };
}

/** A public domain for the admin page and JSON. */
export function presentDomain(d: PublicDomain, services = 0) {
  return {
    id: d.id,
    name: d.name,
    certificatePath: d.certificatePath,
    keyPath: d.keyPath,
    userClaimable: Boolean(d.userClaimable),
    isDefault: Boolean(d.isDefault),
    services,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export interface DomainFormValues {
  name: string;
  certificatePath: string;
  keyPath: string;
  userClaimable: boolean;
}

export function domainFormValues(d: PublicDomain | null): DomainFormValues {
  if (!d) return { name: '', certificatePath: '', keyPath: '', userClaimable: false };
  return { name: d.name, certificatePath: d.certificatePath ?? '', keyPath: d.keyPath ?? '', userClaimable: Boolean(d.userClaimable) };
}

export function submittedDomainValues(body: Record<string, unknown>): DomainFormValues {
  return { name: text(body.name), certificatePath: text(body.certificatePath), keyPath: text(body.keyPath), userClaimable: isTicked(body.userClaimable) };
}
