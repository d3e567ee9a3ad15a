// The service rules that keep nginx.conf safe and ports fair: every hostile value (nginx syntax,
// whitespace, look-alike letters, malformed ports) is a 422 with a field message and writes nothing;
// external ports stay inside their range, off the reserved list and the edge's own ports, are never
// shared, and are allocated lowest-first, even by two requests at once.
import crypto from 'node:crypto';
import { expect } from 'chai';
import type { Config } from '../../../config/index.js';
import { createService } from '../../../src/edge/services.js';
import { ConflictError, ValidationError } from '../../../src/lib/errors.js';
import { createDomain } from '../../factories/edge.js';
import { createContainer } from '../../factories/inventory.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { signedInAgent } from '../../support/login.js';

const models = () => testContext().db.models;
const label = () => `app-${crypto.randomBytes(3).toString('hex')}`;

/**
 * A port range of its own for one test (10 ports inside 16000-19999, used by no other file), so no
 * other test's rows interfere: the next block each time (each run has a fresh database), never a
 * random one two tests could both draw.
 */
let rangesGiven = 0;
function ownRange(): [number, number] {
  const first = 16_000 + rangesGiven++ * 10;
  return [first, first + 9];
}

/** A command as the container's owner would run it, with the edge settings `edge` changed. */
function commandWith(edge: Partial<Config>) {
  return testCommand({ actor: { username: 'rules-test' }, config: { ...testContext().config, EDGE_NGINX_BINARY: 'none', ...edge } as Config });
}

async function refusal(work: Promise<unknown>): Promise<ValidationError | ConflictError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof ValidationError || err instanceof ConflictError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('edge: service rules', function () {
  this.timeout(30_000);
  // No nginx -t on each publish: the rules are under test here, the check is the publisher's.
  const fixture = useApp({ EDGE_TCP_PORTS: '12000-12999', EDGE_UDP_PORTS: '13000-13999', EDGE_NGINX_BINARY: 'none' });

  describe('injection table (API and form): 422 with a field message, nothing written', () => {
    const hostileNames = [
      'app.example.org;', 'app;.example.org', 'app.example.org{', 'app}.example.org', '"app".example.org', "app'.example.org",
      'app .example.org', ' app.example.org', 'app.example.org\n', 'app.exa\tmple.org', 'app.example.org\r\nx', 'app$host.example.org', 'app#.example.org',
      '\u0430pp.example.org' /* Cyrillic a */, 'app.ex\u0430mple.org', 'app.example.org\u200b', 'app..example.org', '-app.example.org', 'app.example.org/',
      'app.example.org:443', 'app', '*.example.org', 'a'.repeat(64) + '.example.org', `${'a.'.repeat(130)}org`, 'app.123', 'app_x.example.org',
    ];
    const hostilePorts: unknown[] = [0, 65536, -1, 80.5, '80abc', '0x50', '1e3', ' 80', '80;', '${port}', '8 0', '８０' /* full-width */, true, [], {}, null];

    it('refuses each hostile public name', async () => {
      const { agent, csrf } = await signedInAgent(fixture.app, { admin: true });
      const ct = await createContainer({ managed: true });
      for (const name of hostileNames) {
        const res = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'http', internalPort: 80, externalHostname: name });
        expect(res.status, JSON.stringify(name)).to.equal(422);
        expect(res.body.fields, JSON.stringify(name)).to.have.property('externalHostname').that.is.a('string');
      }
      const form = await agent.post(`/containers/${ct.id}/services`).type('form').send({ type: 'http', internalPort: '80', externalHostname: 'x.example.org;proxy_pass', _csrf: csrf }).expect(422);
      expect(form.text).to.contain('Use lower-case letters, digits and hyphens');
      expect(await models().Service.count({ where: { containerId: ct.id } })).to.equal(0);
    });

    it('refuses each hostile port, type and flag', async () => {
      const { agent, csrf } = await signedInAgent(fixture.app, { admin: true });
      const ct = await createContainer({ managed: true });
      for (const port of hostilePorts) {
        for (const field of ['internalPort', 'externalPort']) {
          const body = { type: 'tcp', internalPort: 22, [field]: port };
          const res = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send(body);
          expect(res.status, `${field} ${JSON.stringify(port)}`).to.equal(422);
          expect(res.body.fields, `${field} ${JSON.stringify(port)}`).to.have.property(field);
        }
      }
      for (const type of ['tcp;', 'HTTP', 'http ', 'stream', '', null, 7]) {
        const res = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type, internalPort: 22 });
        expect(res.status, JSON.stringify(type)).to.equal(422);
        expect(res.body.fields).to.have.property('type');
      }
      const tls = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'tcp', internalPort: 22, tls: 'maybe' }).expect(422);
      expect(tls.body.fields).to.have.property('tls');
      const missing = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({}).expect(422);
      expect(missing.body.fields).to.have.keys('type', 'internalPort');
      expect(await models().Service.count({ where: { containerId: ct.id } })).to.equal(0);
    });

    it('refuses a name for tcp/udp, a port for http, TLS on udp, and an http service without a name', async () => {
      const { agent, csrf } = await signedInAgent(fixture.app, { admin: true });
      const ct = await createContainer({ managed: true });
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [{ type: 'tcp', internalPort: 22, externalHostname: `${label()}.example.org` }, 'externalHostname', 'reached by port'],
        [{ type: 'http', internalPort: 80, externalHostname: `${label()}.example.org`, externalPort: 12001 }, 'externalPort', 'reached by name'],
        [{ type: 'udp', internalPort: 53, tls: true }, 'tls', 'TLS is for tcp services only'],
        [{ type: 'http', internalPort: 80 }, 'externalHostname', 'needs a public name'],
      ];
      for (const [body, field, message] of cases) {
        const res = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send(body).expect(422);
        expect(res.body.fields[field], JSON.stringify(body)).to.contain(message);
      }
      expect(await models().Service.count({ where: { containerId: ct.id } })).to.equal(0);
    });

    it('refuses hostile domain names and certificate paths on the admin form and API', async () => {
      const { agent, csrf } = await signedInAgent(fixture.app, { admin: true });
      const tag = label();
      for (const name of hostileNames.map((n) => n.replace('app', tag))) {
        const res = await agent.post('/admin/domains').set('X-CSRF-Token', csrf).send({ name });
        expect(res.status, JSON.stringify(name)).to.equal(422);
        expect(res.body.fields).to.have.property('name');
      }
      const paths = ['/etc/ssl/a;b.pem', '/etc/ssl/a b.pem', 'etc/ssl/a.pem', '/etc/ssl/../shadow', '/etc/ssl/$x.pem', '/etc/ssl/a#.pem', '/etc/ssl/\u0430.pem', '/etc/ssl/{a}.pem', '/etc/ssl/a"b.pem', '/etc/ssl/x.pem\n', '/etc/ssl/x.pem;\ninclude /x'];
      for (const path of paths) {
        for (const field of ['certificatePath', 'keyPath']) {
          const body = { name: `${tag}.example.org`, certificatePath: '/etc/ssl/ok.pem', keyPath: '/etc/ssl/ok.key', [field]: path };
          const res = await agent.post('/admin/domains').set('X-CSRF-Token', csrf).send(body);
          expect(res.status, `${field} ${JSON.stringify(path)}`).to.equal(422);
          expect(res.body.fields).to.have.property(field);
        }
      }
      const half = await agent.post('/admin/domains').set('X-CSRF-Token', csrf).send({ name: `${tag}.example.org`, certificatePath: '/etc/ssl/ok.pem' }).expect(422);
      expect(half.body.fields.keyPath).to.contain('Give the key path too');
      const form = await agent.post('/admin/domains').type('form').send({ name: `${tag}.example.org`, certificatePath: '/etc/ssl/a;b.pem', keyPath: '/etc/ssl/k.pem', _csrf: csrf }).expect(422);
      expect(form.text).to.contain('Use an absolute path').and.contain('/etc/ssl/a;b.pem');
      expect(await models().PublicDomain.count({ where: { name: `${tag}.example.org` } })).to.equal(0);
    });
  });

  describe('external ports', () => {
    it('takes a chosen port inside the range; refuses one outside it, a reserved one and the edge https port (422), and a taken one (409)', async () => {
      const [first, last] = ownRange();
      const cmd = commandWith({ EDGE_TCP_PORTS: [first, last], EDGE_RESERVED_PORTS: [first + 1], EDGE_HTTPS_PORT: first + 2 });
      const ct = await createContainer({ managed: true });
      const mine = await createService(cmd, ct, { type: 'tcp', internalPort: 22, externalPort: first + 3 }, { anyName: false, anyContainer: true });
      expect(mine.service.externalPort).to.equal(first + 3);
      for (const [port, message] of [[first - 1, `take external ports ${first}-${last}`], [last + 1, 'take external ports'], [first + 1, 'reserved'], [first + 2, 'reserved']] as const) {
        const err = await refusal(createService(cmd, ct, { type: 'tcp', internalPort: 22, externalPort: port }, { anyName: false, anyContainer: true }));
        expect(err, String(port)).to.be.instanceOf(ValidationError);
        expect(err.fields!.externalPort, String(port)).to.contain(message);
      }
      const taken = await refusal(createService(cmd, await createContainer({ managed: true }), { type: 'tcp', internalPort: 22, externalPort: first + 3 }, { anyName: false, anyContainer: true }));
      expect(taken).to.be.instanceOf(ConflictError);
      expect(taken.fields!.externalPort).to.contain(`tcp port ${first + 3} is already taken`).and.not.contain(ct.hostname);
      // The same number is free for udp (another index entry), and the edge's https port is a tcp matter only.
      const udp = await createService(commandWith({ EDGE_UDP_PORTS: [first, last] }), ct, { type: 'udp', internalPort: 53, externalPort: first + 3 }, { anyName: false, anyContainer: true });
      expect(udp.service.externalPort).to.equal(first + 3);
      expect(await models().Service.count({ where: { containerId: ct.id } })).to.equal(2);
    });

    it('allocates the lowest free port, skipping reserved and held ones, and says so when the range is full (409)', async () => {
      const [first, last] = ownRange();
      const cmd = commandWith({ EDGE_TCP_PORTS: [first, last], EDGE_RESERVED_PORTS: [first + 1] });
      const ct = await createContainer({ managed: true });
      await createService(cmd, ct, { type: 'tcp', internalPort: 1, externalPort: first + 2 }, { anyName: false, anyContainer: true });
      const ports: number[] = [];
      for (let i = 0; i < 7; i++) ports.push((await createService(cmd, ct, { type: 'tcp', internalPort: 22 }, { anyName: false, anyContainer: true })).service.externalPort!);
      expect(ports).to.deep.equal([first, first + 3, first + 4, first + 5, first + 6, first + 7, first + 8]);
      const freed = (await models().Service.findOne({ where: { type: 'tcp', externalPort: first + 4 } }))!;
      await freed.destroy();
      expect((await createService(cmd, ct, { type: 'tcp', internalPort: 22 }, { anyName: false, anyContainer: true })).service.externalPort, 'a freed port is reused').to.equal(first + 4);
      expect((await createService(cmd, ct, { type: 'tcp', internalPort: 22 }, { anyName: false, anyContainer: true })).service.externalPort).to.equal(last);
      const full = await refusal(createService(cmd, ct, { type: 'tcp', internalPort: 22 }, { anyName: false, anyContainer: true }));
      expect(full).to.be.instanceOf(ConflictError);
      expect(full.message).to.contain(`No free tcp port is left on the edge (range ${first}-${last})`);
    });

    it('gives concurrent allocations different ports (the unique index decides)', async () => {
      const [first, last] = ownRange();
      const cmd = commandWith({ EDGE_UDP_PORTS: [first, last] });
      const containers = await Promise.all(Array.from({ length: 6 }, () => createContainer({ managed: true })));
      const results = await Promise.all(containers.map((ct) => createService(cmd, ct, { type: 'udp', internalPort: 53 }, { anyName: false, anyContainer: true })));
      const ports = results.map((r) => r.service.externalPort!);
      expect(new Set(ports).size).to.equal(6);
      for (const p of ports) expect(p).to.be.within(first, last);
      const rows = await models().Service.findAll({ where: { type: 'udp', containerId: containers.map((c) => c.id) } });
      expect(rows.map((r) => r.externalPort).sort()).to.deep.equal([...ports].sort());
    });

    it('moves an edited service to a new chosen port, refusing one another service holds', async () => {
      const { agent, user, csrf } = await signedInAgent(fixture.app);
      const ct = await createContainer({ managed: true, username: user.username });
      const a = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'tcp', internalPort: 22 }).expect(201);
      const b = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'tcp', internalPort: 23 }).expect(201);
      expect(a.body.externalPort).not.to.equal(b.body.externalPort);
      const clash = await agent.put(`/containers/${ct.id}/services/${b.body.id}`).set('X-CSRF-Token', csrf).send({ type: 'tcp', internalPort: 23, externalPort: a.body.externalPort }).expect(409);
      expect(clash.body.fields.externalPort).to.contain('already taken');
      const held = new Set((await models().Service.findAll({ where: { type: 'tcp' }, attributes: ['externalPort'] })).map((r) => r.externalPort));
      let moved = 12_999;
      while (held.has(moved)) moved--;
      const ok = await agent.put(`/containers/${ct.id}/services/${b.body.id}`).set('X-CSRF-Token', csrf).send({ type: 'tcp', internalPort: 23, externalPort: moved }).expect(200);
      expect(ok.body.externalPort).to.equal(moved);
      // Keeping its own port is not a clash.
      await agent.put(`/containers/${ct.id}/services/${a.body.id}`).set('X-CSRF-Token', csrf).send({ type: 'tcp', internalPort: 2222, externalPort: a.body.externalPort }).expect(200);
    });

    it('lets a user claim a name under an open domain by JSON and an admin name a domain it is not under', async () => {
      const open = await createDomain({ userClaimable: true });
      const { agent, user, csrf } = await signedInAgent(fixture.app);
      const ct = await createContainer({ managed: true, username: user.username });
      const res = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'http', internalPort: '3000', externalHostname: `${label()}.${open.name}` }).expect(201);
      expect(res.body).to.include({ internalPort: 3000, domain: open.name, tls: true });
    });
  });
});
