import type { Config } from '../../config/index.js';
import type { Models, ServiceType } from '../../models/index.js';

/**
 * What the nginx.conf renderer reads: every service with the bits of its container and domain the
 * config needs, loaded in three flat queries (no ORM joins: at 10,000 services a join of model
 * instances costs more than the render itself).
 */
export interface RegistryService {
  id: number;
  type: ServiceType;
  internalPort: number;
  externalPort: number | null;
  externalHostname: string | null;
  tls: boolean;
  container: { id: number; hostname: string; ipv4Address: string | null; status: string };
  /** The http service's domain (its certificate); null for tcp/udp and for names outside every domain. */
  domain: { id: number; name: string; certificatePath: string | null; keyPath: string | null } | null;
}

export interface RegistrySnapshot {
  /** Ordered by id, so the same registry always renders the same text (and the same sha256). */
  services: RegistryService[];
}

/** The site-specific parts of the config: paths and ports on the edge host, and the proxy settings. */
export interface EdgeSite {
  /** Path of the stream module for `load_module`; '' writes no load_module line. */
  loadModule: string;
  pidFile: string;
  errorLog: string;
  accessLog: string;
  /** nginx's temporary files go in subdirectories of this directory. */
  tempDir: string;
  /** The default certificate pair (domains without their own, admin-allowed names, tcp with TLS). */
  certificate: string;
  certificateKey: string;
  httpPort: number;
  httpsPort: number;
  proxyConnectTimeoutSeconds: number;
  proxyTimeoutSeconds: number;
  clientMaxBodySize: string;
  workerConnections: number;
  /** The nginx -t placeholder pair (src/edge/nginx-check.ts): when set, used for every certificate in the config. */
  certificateOverride?: { certificate: string; key: string };
}

/** The edge host's site as configured (EDGE_* settings). */
export function siteFromConfig(config: Config): EdgeSite {
  return {
    loadModule: config.EDGE_LOAD_MODULE === 'none' ? '' : config.EDGE_LOAD_MODULE,
    pidFile: config.EDGE_PID_FILE,
    errorLog: config.EDGE_ERROR_LOG,
    accessLog: config.EDGE_ACCESS_LOG,
    tempDir: config.EDGE_TEMP_DIR,
    certificate: config.EDGE_CERTIFICATE,
    certificateKey: config.EDGE_CERTIFICATE_KEY,
    httpPort: config.EDGE_HTTP_PORT,
    httpsPort: config.EDGE_HTTPS_PORT,
    proxyConnectTimeoutSeconds: config.EDGE_PROXY_CONNECT_TIMEOUT_SECONDS,
    proxyTimeoutSeconds: config.EDGE_PROXY_TIMEOUT_SECONDS,
    clientMaxBodySize: config.EDGE_CLIENT_MAX_BODY_SIZE,
    workerConnections: config.EDGE_WORKER_CONNECTIONS,
  };
}

/** Reads the whole registry. Not in a transaction: the publisher holds the edge lock while it reads (src/edge/publish.ts). */
export async function loadRegistry(models: Models): Promise<RegistrySnapshot> {
  const [services, containers, domains] = await Promise.all([
    models.Service.findAll({ attributes: ['id', 'containerId', 'type', 'internalPort', 'externalPort', 'externalHostname', 'tls', 'domainId'], order: [['id', 'ASC']], raw: true }),
    models.Container.findAll({ attributes: ['id', 'hostname', 'ipv4Address', 'status'], raw: true }),
    models.PublicDomain.findAll({ attributes: ['id', 'name', 'certificatePath', 'keyPath'], raw: true }),
  ]);
  const containerById = new Map(containers.map((c) => [c.id, { id: c.id, hostname: c.hostname, ipv4Address: c.ipv4Address, status: c.status }]));
  const domainById = new Map(domains.map((d) => [d.id, { id: d.id, name: d.name, certificatePath: d.certificatePath, keyPath: d.keyPath }]));
  const out: RegistryService[] = [];
  for (const s of services) {
    const container = containerById.get(s.containerId);
    if (!container) continue; // deleted between the queries: its services went with it (ON DELETE CASCADE)
    out.push({
      id: s.id,
      type: s.type,
      internalPort: s.internalPort,
      externalPort: s.externalPort,
      externalHostname: s.externalHostname,
      // SQLite returns booleans of raw rows as 0/1.
      tls: Boolean(s.tls),
      container,
      domain: s.domainId == null ? null : (domainById.get(s.domainId) ?? null),
    });
  }
  return { services: out };
}
