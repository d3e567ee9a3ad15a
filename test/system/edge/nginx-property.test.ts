// Any registry Berth accepts renders to a config the real nginx accepts: fast-check generates
// hundreds of random valid registries (names at the limits of names.ts, many domains, hostnames and
// ports unique as the database makes them, tcp with and without TLS, udp, every container status,
// missing addresses), each rendered on a test site and proved with `nginx -t`. Plus the registry at
// the size, and a check that fails: nginx's words and the line that names the service.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { CONTAINER_STATUSES } from '../../../models/Container.js';
import { checkWithNginx, checkSite, withCheckDir } from '../../../src/edge/nginx-check.js';
import { isEdgeHostname, isLabel } from '../../../src/edge/names.js';
import type { EdgeSite, RegistryService, RegistrySnapshot } from '../../../src/edge/registry.js';
import { entryAtLine, renderEdgeConfig } from '../../../src/edge/render.js';
import { loadConfig } from '../../../config/index.js';
import { makeCertificate, NGINX_BINARY, testSite, type CertificatePair } from '../../support/nginx.js';

const ALNUM = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
const INNER = [...ALNUM, '-'];

/** A DNS label by names.ts's rule, now and then of the full 63 characters. */
const label = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...ALNUM), fc.array(fc.constantFrom(...INNER), { maxLength: 12 }), fc.constantFrom(...ALNUM)).map(([a, mid, z]) => a + mid.join('') + z) },
  { weight: 2, arbitrary: fc.constantFrom(...ALNUM) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...ALNUM), fc.array(fc.constantFrom(...INNER), { minLength: 61, maxLength: 61 }), fc.constantFrom(...ALNUM)).map(([a, mid, z]) => a + mid.join('') + z) },
);
/** A top-level label: not all digits. */
const tld = fc.array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), { minLength: 2, maxLength: 8 }).map((l) => l.join(''));
/** A domain: one to three labels and a tld, within 190 characters (room for a label under it). */
const domainName = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), tld).map(([ls, t]) => [...ls, t].join('.')).filter((d) => d.length <= 190);
/** A name an admin allowed outside every domain, up to the full 253 characters. */
const anyName = fc.oneof(
  fc.tuple(fc.array(label, { minLength: 1, maxLength: 5 }), tld).map(([ls, t]) => [...ls, t].join('.')).filter((n) => n.length <= 253),
  // Exactly 253: three labels of 63, one of 58 and a two-letter tld.
  tld.map((t) => `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}1.${t.slice(0, 2)}`),
);

const ipv4 = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((o) => o.join('.'));
const container = fc.record({
  id: fc.integer({ min: 1, max: 1_000_000 }),
  hostname: label,
  ipv4Address: fc.option(ipv4, { freq: 6 }),
  // Mostly running, so most services are in the config.
  status: fc.oneof({ weight: 4, arbitrary: fc.constant('running') }, { weight: 2, arbitrary: fc.constantFrom(...CONTAINER_STATUSES) }),
});

interface Domain {
  id: number;
  name: string;
  certificatePath: string | null;
  keyPath: string | null;
}

/**
 * A registry as the database can hold it: http names unique, (type, port) unique among tcp/udp,
 * ports inside the configured ranges and off the site's own; domains with their own certificate
 * (one of `pairs`) or the site's.
 */
function registry(pairs: CertificatePair[], site: EdgeSite): fc.Arbitrary<RegistrySnapshot> {
  const ownCertificate = fc.option(fc.constantFrom(...pairs), { freq: 2 });
  const domains = fc.uniqueArray(domainName, { minLength: 1, maxLength: 6 }).chain((names) =>
    fc.tuple(...names.map((name, i) => ownCertificate.map((pair): Domain => ({ id: i + 1, name, certificatePath: pair?.certificate ?? null, keyPath: pair?.key ?? null })))),
  );
  const port = (min: number, max: number) => fc.integer({ min, max }).filter((p) => p !== site.httpPort && p !== site.httpsPort);
  return domains.chain((ds) => {
    const http = fc.oneof(
      // A label under one of the domains (its certificate), or any name an admin allowed (the site's).
      fc.tuple(label, fc.constantFrom(...ds)).map(([l, d]) => ({ name: `${l}.${d.name}`, domain: d })).filter((h) => h.name.length <= 253),
      anyName.map((name) => ({ name, domain: null as Domain | null })),
    );
    return fc.record({
      http: fc.uniqueArray(fc.tuple(http, container, fc.integer({ min: 1, max: 65535 })), { maxLength: 12, selector: ([h]) => h.name }),
      tcp: fc.uniqueArray(fc.tuple(port(20000, 29999), fc.boolean(), container, fc.integer({ min: 1, max: 65535 })), { maxLength: 10, selector: ([p]) => p }),
      udp: fc.uniqueArray(fc.tuple(port(30000, 39999), container, fc.integer({ min: 1, max: 65535 })), { maxLength: 5, selector: ([p]) => p }),
    }).map(({ http, tcp, udp }) => {
      const services: RegistryService[] = [];
      let id = 1;
      const base = { externalPort: null, externalHostname: null, tls: false, domain: null };
      for (const [h, c, internalPort] of http) services.push({ ...base, id: id++, type: 'http', internalPort, externalHostname: h.name, domain: h.domain, container: c });
      for (const [externalPort, tls, c, internalPort] of tcp) services.push({ ...base, id: id++, type: 'tcp', internalPort, externalPort, tls, container: c });
      for (const [externalPort, c, internalPort] of udp) services.push({ ...base, id: id++, type: 'udp', internalPort, externalPort, container: c });
      return { services };
    });
  });
}

describe('edge nginx.conf against the real nginx -t', function () {
  this.timeout(180_000);
  let prefix: string;
  let site: EdgeSite;
  let pairs: CertificatePair[];

  before(async () => {
    prefix = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'berth-edge-property-'));
    site = await testSite(prefix);
    pairs = await Promise.all(['one.test', 'two.test'].map((cn) => makeCertificate(prefix, cn)));
  });
  after(async () => {
    await fs.promises.rm(prefix, { recursive: true, force: true });
  });

  it('the generated names follow names.ts (the generator makes only what the registry accepts)', () => {
    const snapshots = fc.sample(registry(pairs, site), 50);
    for (const s of snapshots) {
      for (const svc of s.services) {
        expect(isLabel(svc.container.hostname)).to.equal(true);
        if (svc.type === 'http') expect(isEdgeHostname(svc.externalHostname!), svc.externalHostname!).to.equal(true);
      }
    }
    expect(snapshots.some((s) => s.services.some((svc) => svc.externalHostname?.length === 253))).to.equal(true);
  });

  it('accepts the config of 200 random valid registries', async () => {
    await fc.assert(
      fc.asyncProperty(registry(pairs, site), async (snapshot) => {
        const { body } = renderEdgeConfig(snapshot, site);
        const result = await checkWithNginx(body, { binary: NGINX_BINARY, workDir: prefix });
        if (!result.ok) throw new Error(`nginx -t refused the config at line ${result.line}:\n${result.output}\n${body}`);
      }),
      { numRuns: 200 },
    );
  });

  it("accepts the issue's size: 5,000 http services (names of up to 253 characters), 4,000 tcp (400 with TLS), 1,000 udp", async () => {
    const services: RegistryService[] = [];
    const base = { externalPort: null, externalHostname: null, tls: false, domain: null };
    const own = { id: 1, name: 'example.org', certificatePath: pairs[0]!.certificate, keyPath: pairs[0]!.key };
    for (let i = 0; i < 10_000; i++) {
      const c = { id: i + 1, hostname: `ct-${i}`, ipv4Address: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, status: 'running' };
      if (i < 5000) {
        // Every other name as long as names.ts allows; the rest short, under a domain with its own certificate.
        const name = i % 2 ? `${String(i).padStart(63, 'a')}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.org` : `svc-${i}.example.org`;
        services.push({ ...base, id: i + 1, type: 'http', internalPort: 8080, externalHostname: name, domain: i % 2 ? null : own, container: c });
      } else if (i < 9000) {
        // One in ten with TLS: every TLS server costs nginx -t a millisecond of OpenSSL set-up, and the random registries cover TLS.
        services.push({ ...base, id: i + 1, type: 'tcp', internalPort: 22, externalPort: 20000 + i - 5000, tls: i % 10 === 0, container: c });
      } else {
        services.push({ ...base, id: i + 1, type: 'udp', internalPort: 53, externalPort: 30000 + i - 9000, container: c });
      }
    }
    expect(services[1]!.externalHostname).to.have.length(253);
    const { body, entries } = renderEdgeConfig({ services }, site);
    expect(entries.filter((e) => e.included)).to.have.length(10_000);
    const result = await checkWithNginx(body, { binary: NGINX_BINARY, workDir: prefix });
    expect(result.ok, result.output).to.equal(true);
  });

  it("reports a certificate that does not exist: not ok, nginx's words, and the line of the service it belongs to", async () => {
    const missing = path.join(prefix, 'no-such-dir/missing.pem');
    const c = (id: number) => ({ id, hostname: `ct-${id}`, ipv4Address: `10.0.0.${id}`, status: 'running' });
    const snapshot: RegistrySnapshot = {
      services: [
        { id: 11, type: 'http', internalPort: 80, externalPort: null, externalHostname: 'fine.example.org', tls: false, container: c(1), domain: null },
        { id: 12, type: 'http', internalPort: 80, externalPort: null, externalHostname: 'app.broken.test', tls: false, container: c(2), domain: { id: 9, name: 'broken.test', certificatePath: missing, keyPath: pairs[0]!.key } },
        { id: 13, type: 'tcp', internalPort: 22, externalPort: 20022, externalHostname: null, tls: true, container: c(3), domain: null },
      ],
    };
    const { body, entries } = renderEdgeConfig(snapshot, site);
    const result = await checkWithNginx(body, { binary: NGINX_BINARY, workDir: prefix });
    expect(result.ok).to.equal(false);
    expect(result.output).to.include(`cannot load certificate "${missing}"`).and.include('test failed');
    expect(entryAtLine(entries, result.line)?.serviceId).to.equal(12);
  });

  it('reports a syntax error at the line nginx names', async () => {
    const snapshot: RegistrySnapshot = {
      services: [{ id: 5, type: 'tcp', internalPort: 22, externalPort: 20022, externalHostname: null, tls: false, container: { id: 1, hostname: 'a', ipv4Address: '10.0.0.1', status: 'running' }, domain: null }],
    };
    const { body, entries } = renderEdgeConfig(snapshot, site);
    const broken = body.replace('    listen 20022;', '    listen 20022 bogus;');
    const result = await checkWithNginx(broken, { binary: NGINX_BINARY, workDir: prefix });
    expect(result.ok).to.equal(false);
    expect(result.output).to.match(/the invalid "bogus" parameter in .*nginx\.conf:\d+/);
    expect(entryAtLine(entries, result.line)?.serviceId).to.equal(5);
  });

  it('throws when the configured binary cannot be run at all (a setup fault, not a verdict on the config)', async () => {
    const err = await checkWithNginx('events {}\n', { binary: path.join(prefix, 'no-nginx-here'), workDir: prefix }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.match(/^nginx could not be run \(.*no-nginx-here\): .*ENOENT/);
  });

  it("proves a version on the check site: paths in a fresh directory, the placeholder certificate made once per DATA_DIR, the directory removed", async () => {
    const dataDir = path.join(prefix, 'data');
    const config = loadConfig({ dotenv: false, env: { DATA_DIR: dataDir, EDGE_CHECK_CERTIFICATES: 'placeholder', EDGE_HTTP_PORT: String(site.httpPort), EDGE_HTTPS_PORT: String(site.httpsPort) } });
    const snapshot: RegistrySnapshot = {
      services: [
        // The edge's own certificate paths do not exist here: the placeholder stands in for them.
        { id: 1, type: 'http', internalPort: 80, externalPort: null, externalHostname: 'app.example.org', tls: false, container: { id: 1, hostname: 'a', ipv4Address: '10.0.0.1', status: 'running' }, domain: { id: 1, name: 'example.org', certificatePath: '/etc/ssl/example.org/fullchain.pem', keyPath: '/etc/ssl/example.org/privkey.pem' } },
        { id: 2, type: 'tcp', internalPort: 22, externalPort: 20022, externalHostname: null, tls: true, container: { id: 1, hostname: 'a', ipv4Address: '10.0.0.1', status: 'running' }, domain: null },
      ],
    };
    const seen: string[] = [];
    const check = () =>
      withCheckDir(config, async (workDir) => {
        seen.push(workDir);
        const checkSiteNow = await checkSite(config, workDir);
        expect(checkSiteNow.pidFile.startsWith(`${workDir}/`)).to.equal(true);
        expect(checkSiteNow.tempDir).to.equal(workDir);
        return { site: checkSiteNow, result: await checkWithNginx(renderEdgeConfig(snapshot, checkSiteNow).body, { binary: NGINX_BINARY, workDir }) };
      });
    // Two at once: the placeholder is made once, and neither sees half of it.
    const [a, b] = await Promise.all([check(), check()]);
    expect(a.result.ok, a.result.output).to.equal(true);
    expect(b.result.ok, b.result.output).to.equal(true);
    const placeholder = path.join(dataDir, 'edge-check/placeholder.pem');
    expect(a.site.certificateOverride).to.deep.equal({ certificate: placeholder, key: placeholder });
    expect(fs.readdirSync(path.join(dataDir, 'edge-check'))).to.deep.equal(['placeholder.pem']);
    const made = fs.statSync(placeholder).mtimeMs;
    expect((await check()).result.ok).to.equal(true);
    expect(fs.statSync(placeholder).mtimeMs).to.equal(made);
    for (const dir of seen) expect(fs.existsSync(dir), dir).to.equal(false);
  });
});
