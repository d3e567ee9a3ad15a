import { isEdgePath } from '../../config/index.js';
import type { EdgeSite, RegistryService, RegistrySnapshot } from './registry.js';

/** Where one service's entry sits in the rendered text (1-based lines), so an nginx -t error can name it. */
export interface RenderedEntry {
  serviceId: number;
  firstLine: number;
  lastLine: number;
  /** false when the service is left out (its container is stopped, deleted or has no address): only a comment says why. */
  included: boolean;
}

export interface RenderedConfig {
  body: string;
  entries: RenderedEntry[];
}

/**
 * Why a container's services are left out, by status. Only `running` is known to be serving: a
 * stopped container would make the edge answer 502 for its names, and its ports would still be held
 * on the edge. `unknown` (a row never synced with Proxmox) and the seed's `creating`/`failed` are
 * not known to be serving either, so they are left out too; a status not listed here (a future one)
 * is left out with its name, never guessed to be serving.
 */
const LEFT_OUT_BECAUSE: Readonly<Record<string, string>> = {
  stopped: 'stopped',
  provisioning: 'not built yet',
  'pending-approval': 'not built yet (waiting for approval)',
  creating: 'being created',
  failed: 'failed',
  error: 'in error',
  deleting: 'being deleted',
  unknown: 'in an unknown state',
};

/** A container's hostname as the comment lines show it: Proxmox's names are DNS-like, anything else is shown by id. */
const SHOWN_HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
/**
 * names.ts's host name shape in one expression (dot-separated labels, 253 characters at most):
 * isEdgeHostname splits and allocates, which cost a third of the render at 5,000 names.
 */
const PUBLIC_NAME = /^(?=[a-z0-9.-]{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const isPort = (p: number | null): p is number => Number.isInteger(p) && p! >= 1 && p! <= 65535;

/**
 * Why `service` is left out of the config, or null when it is included. Past the container's state,
 * every value the entry writes is checked against the rules the registry's forms and API enforce
 * (names.ts, the port rules): a row written around them (a hand-edited database, an address Proxmox
 * reported oddly) is left out with a comment instead of breaking the config for every other service.
 * This is a check, never an escape: a value that passes is written as it is.
 */
function leftOutBecause(service: RegistryService, containerName: string): string | null {
  const c = service.container;
  if (c.status !== 'running') return `container ${containerName} is ${LEFT_OUT_BECAUSE[c.status] ?? (/^[a-z-]{1,32}$/.test(c.status) ? `in state ${c.status}` : 'in an unlisted state')}`;
  if (!c.ipv4Address) return `container ${containerName} has no IPv4 address`;
  if (!IPV4.test(c.ipv4Address)) return `container ${containerName} has no valid IPv4 address`;
  if (!isPort(service.internalPort)) return 'its internal port is not a port';
  if (service.type === 'http') {
    if (!service.externalHostname || !PUBLIC_NAME.test(service.externalHostname)) return 'it has no valid public name';
    const d = service.domain;
    if (d?.certificatePath && d.keyPath && !(isEdgePath(d.certificatePath) && isEdgePath(d.keyPath))) return 'its domain has no valid certificate path';
  } else if (!isPort(service.externalPort)) return 'it has no valid external port';
  return null;
}

/**
 * Renders the complete, self-contained nginx.conf of the edge for `snapshot` on `site`: nothing is
 * included from the distribution, so what `nginx -t` proved on the Berth host is what the edge runs.
 *
 * Every service gets an entry that begins with one comment line, unique per service, saying what it
 * is (`# service 12: http app.example.org -> 10.0.0.5:8080 (container app)`) or why it is left out
 * (`# service 13 left out: container db is stopped`): the publisher diffs versions by these lines.
 * Every directive sits on a line of its own and every site value inside one line, so the same snapshot
 * on another site (the nginx -t check's paths) has the same lines: an error at line N of the check
 * names the same entry as line N of the published text. Values are written as they are: names.ts and
 * the config's rules only let through characters that cannot change nginx's syntax.
 *
 * Entries come in the order of the text: the http services (by id), then the tcp/udp ones (by id).
 * Same snapshot and site, byte-identical text.
 */
export function renderEdgeConfig(snapshot: RegistrySnapshot, site: EdgeSite): RenderedConfig {
  const out = new TextSink(64 * 1024 + snapshot.services.length * 320);
  const entries: RenderedEntry[] = [];
  const https = site.httpsPort;
  const temp = site.tempDir;
  const entrySite = entrySiteOf(site);
  const http: RegistryService[] = [];
  const stream: RegistryService[] = [];
  for (const s of snapshot.services) (s.type === 'http' ? http : stream).push(s);
  const streamLeftOut = stream.map((s) => leftOutBecause(s, shownName(s)));
  // Every listening socket takes one of a worker's connections (nginx -t refuses a config with more
  // sockets than worker_connections), so the configured number is what is left for clients, and the
  // sockets come on top, by the thousand (the line changes when the thousand does, not with every
  // service); a proxied connection holds two descriptors.
  let listeners = 2;
  for (const why of streamLeftOut) if (!why) listeners++;
  const connections = site.workerConnections + Math.ceil(listeners / 1000) * 1000;

  /** Appends whole lines. */
  const add = (...lines: string[]): void => out.write(`${lines.join('\n')}\n`, lines.length);

  add(
    '# The edge configuration, generated by Berth from its service registry: every pull replaces this file.',
    // One line either way, so the line numbers do not depend on whether the module is built in.
    site.loadModule ? `load_module ${site.loadModule};` : '# no load_module: the stream module is built into this nginx',
    `pid ${site.pidFile};`,
    `error_log ${site.errorLog};`,
    'worker_processes auto;',
    `worker_rlimit_nofile ${2 * connections + 64};`,
    '',
    'events {',
    `  worker_connections ${connections};`,
    '}',
    '',
    'http {',
    `  access_log ${site.accessLog};`,
    `  client_body_temp_path ${temp}/client_body;`,
    `  proxy_temp_path ${temp}/proxy;`,
    `  fastcgi_temp_path ${temp}/fastcgi;`,
    `  uwsgi_temp_path ${temp}/uwsgi;`,
    `  scgi_temp_path ${temp}/scgi;`,
    '  default_type application/octet-stream;',
    '  server_tokens off;',
    `  client_max_body_size ${site.clientMaxBodySize};`,
    `  proxy_connect_timeout ${site.proxyConnectTimeoutSeconds}s;`,
    `  proxy_read_timeout ${site.proxyTimeoutSeconds}s;`,
    `  proxy_send_timeout ${site.proxyTimeoutSeconds}s;`,
    // 10,000 names of up to 253 characters: a bucket holds three of the longest (1024 bytes), and
    // above 10,000 nginx tries only the last 1,000 sizes below the maximum, where the names spread
    // thin enough; shorter names need far less. The default (512 buckets of 64 bytes) fails at a few
    // hundred names.
    '  server_names_hash_max_size 65536;',
    '  server_names_hash_bucket_size 1024;',
    '  map $http_upgrade $connection_upgrade {',
    '    default upgrade;',
    "    '' close;",
    '  }',
    // Every service's `location /` inherits these: none sets a proxy header of its own.
    '  proxy_http_version 1.1;',
    '  proxy_set_header Upgrade $http_upgrade;',
    '  proxy_set_header Connection $connection_upgrade;',
    '  proxy_set_header Host $host;',
    '  proxy_set_header X-Real-IP $remote_addr;',
    '  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '  proxy_set_header X-Forwarded-Proto $scheme;',
    '  ssl_protocols TLSv1.2 TLSv1.3;',
    '',
    '  # Plain HTTP: every name is sent to HTTPS.',
    '  server {',
    `    listen ${site.httpPort} default_server;`,
    '    server_name _;',
    `    return 301 https://$host${https === 443 ? '' : `:${https}`}$request_uri;`,
    '  }',
    '',
    '  # HTTPS for a name no service has: the handshake is refused (no certificate is shown).',
    '  server {',
    `    listen ${https} ssl default_server;`,
    '    server_name _;',
    '    ssl_reject_handshake on;',
    '  }',
  );

  /** Appends the entry of `s` (an empty line, then the entry); `why` it is left out, if known. */
  const entry = (s: RegistryService, why?: string | null): void => {
    const e = renderEntry(s, entrySite, why);
    const firstLine = out.lines + 2;
    out.write(e.text, e.lines);
    entries.push({ serviceId: s.id, firstLine, lastLine: out.lines, included: e.included });
  };

  for (const s of http) entry(s);

  add(
    '}',
    '',
    // Always present, with or without servers, so the module's load line is always proved by nginx -t.
    'stream {',
    `  proxy_connect_timeout ${site.proxyConnectTimeoutSeconds}s;`,
    `  proxy_timeout ${site.proxyTimeoutSeconds}s;`,
    '  ssl_protocols TLSv1.2 TLSv1.3;',
  );

  stream.forEach((s, i) => entry(s, streamLeftOut[i]));

  add('}');
  return { body: out.text(), entries };
}

/** What of the site an entry shows: the https port and the certificates. */
interface EntrySite {
  https: number;
  /** The certificate pair of tcp with TLS and of names without their domain's own. */
  certificate: string;
  certificateKey: string;
  /** The nginx -t placeholder, which wins over every other pair. */
  override: { certificate: string; key: string } | null;
}

function entrySiteOf(site: EdgeSite): EntrySite {
  const override = site.certificateOverride ?? null;
  return { https: site.httpsPort, certificate: override?.certificate ?? site.certificate, certificateKey: override?.key ?? site.certificateKey, override };
}

/** One service's entry: an empty line, then the entry itself; `lines` lines, each ending with a newline. */
interface Entry {
  text: string;
  lines: number;
  included: boolean;
}

/**
 * Renders the entry of `s`: the comment saying why it is left out, or its comment line and its server
 * block. `leftOut` is leftOutBecause's answer when the caller already has it.
 */
function renderEntry(s: RegistryService, site: EntrySite, leftOut?: string | null): Entry {
  const c = s.container;
  const shown = shownName(s);
  const why = leftOut === undefined ? leftOutBecause(s, shown) : leftOut;
  let text: string;
  let lines: number;
  if (why) {
    text = `\n  # service ${s.id} left out: ${why}\n`;
    lines = 2;
  } else {
    const head = `\n  # service ${s.id}: `;
    const tail = ` -> ${c.ipv4Address}:${s.internalPort} (container ${shown})\n  server {\n`;
    if (s.type === 'http') {
      const own = s.domain?.certificatePath && s.domain.keyPath ? s.domain : null;
      text = `${head}http ${s.externalHostname}${tail}    listen ${site.https} ssl;
    server_name ${s.externalHostname};
    ssl_certificate ${site.override?.certificate ?? own?.certificatePath ?? site.certificate};
    ssl_certificate_key ${site.override?.key ?? own?.keyPath ?? site.certificateKey};
    location / {
      proxy_pass http://${c.ipv4Address}:${s.internalPort};
    }
  }
`;
      lines = 11;
    } else {
      const proxyPass = `    proxy_pass ${c.ipv4Address}:${s.internalPort};\n  }\n`;
      if (s.type === 'udp') {
        text = `${head}udp ${s.externalPort}${tail}    listen ${s.externalPort} udp;\n${proxyPass}`;
        lines = 6;
      } else if (s.tls) {
        text = `${head}tcp+tls ${s.externalPort}${tail}    listen ${s.externalPort} ssl;\n    ssl_certificate ${site.certificate};\n    ssl_certificate_key ${site.certificateKey};\n${proxyPass}`;
        lines = 8;
      } else {
        text = `${head}tcp ${s.externalPort}${tail}    listen ${s.externalPort};\n${proxyPass}`;
        lines = 6;
      }
    }
  }
  return { text, lines, included: !why };
}

function shownName(s: RegistryService): string {
  return SHOWN_HOSTNAME.test(s.container.hostname) ? s.container.hostname : `#${s.container.id}`;
}

/**
 * The text being rendered, in a growing byte buffer, with its line count. Writing each entry's
 * template into a buffer lets the template's pieces die at once; appending them to a string (or an
 * array to join) keeps every piece alive until the end, and the garbage collector's copying of
 * 10,000 entries' pieces made the render two to four times slower. The text is ASCII (the checks above and
 * the config's rules let nothing else through), so it is written as UTF-8 (the fastest write) and
 * read back as latin1 (twenty times faster than decoding UTF-8): were a non-ASCII character ever to
 * slip through, its bytes are all above 0x7F and come back as other non-ASCII characters, never as
 * a `;`, a brace or a newline.
 */
class TextSink {
  private buf: Buffer;
  private length = 0;
  lines = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  write(text: string, lines: number): void {
    // Room for the worst case of UTF-8 (3 bytes a character), so a write is never cut short.
    if (this.length + 3 * text.length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + 3 * text.length));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.length += this.buf.write(text, this.length);
    this.lines += lines;
  }

  text(): string {
    return this.buf.toString('latin1', 0, this.length);
  }
}

/** The entry whose lines hold `line` (an nginx -t error's line), or null when it is outside every service's entry. */
export function entryAtLine(entries: readonly RenderedEntry[], line: number | null): RenderedEntry | null {
  if (line == null) return null;
  return entries.find((e) => e.firstLine <= line && line <= e.lastLine) ?? null;
}
