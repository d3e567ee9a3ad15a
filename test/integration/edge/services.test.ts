// The service registry through its API and forms: add, list, change and remove a container's services,
// who may do it (owner, admin, anyone else gets 404), the ancestor's hijack (no token, someone else's
// name, a domain users may not claim), audit events on the container, and the shapes of both audiences.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createApiToken } from '../../../src/services/apiTokens.js';
import { createDomain, createService } from '../../factories/edge.js';
import { createContainer } from '../../factories/inventory.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { csrfToken, signedInAgent } from '../../support/login.js';

const models = () => testContext().db.models;
const label = () => `app-${crypto.randomBytes(3).toString('hex')}`;
const events = (containerId: number, action: string) => models().AuditEvent.findAll({ where: { objectType: 'container', objectId: String(containerId), action }, order: [['id', 'ASC']] });

describe('edge: services API and forms', function () {
  this.timeout(30_000);
  // A tcp range of this file's own, so the ports other files' services hold do not matter. No nginx -t
  // on each publish: the registry's rules are under test here, the check is the publisher's (edge/publish tests).
  const fixture = useApp({ EDGE_TCP_PORTS: '12000-12999', EDGE_UDP_PORTS: '13000-13999', EDGE_NGINX_BINARY: 'none' });

  it('adds an http service under a claimable domain by JSON: 201, Location, the service JSON, audited on the container', async () => {
    const { agent, user, csrf } = await signedInAgent(fixture.app);
    const ct = await createContainer({ managed: true, username: user.username });
    const domain = await createDomain({ userClaimable: true });
    const name = `${label()}.${domain.name}`;
    const res = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'http', internalPort: 8080, externalHostname: name.toUpperCase() }).expect(201);
    expect(res.headers.location).to.equal(`/containers/${ct.id}/services/${res.body.id}`);
    expect(res.body).to.deep.equal({
      id: res.body.id, containerId: ct.id, type: 'http', internalPort: 8080, externalPort: null, externalHostname: name, tls: true,
      domain: domain.name, url: `https://${name}`, address: null,
    });
    const row = (await models().Service.findByPk(res.body.id))!;
    expect(row).to.include({ containerId: ct.id, externalHostname: name, domainId: domain.id, externalPort: null });
    expect(Boolean(row.tls), 'http is always served over HTTPS').to.equal(true);
    const [created] = await events(ct.id, 'service.create');
    expect(created).to.include({ actor: user.username, objectLabel: ct.hostname });
    expect(JSON.parse(created.changes!)).to.deep.include({ serviceId: { after: row.id }, externalHostname: { after: name }, internalPort: { after: 8080 }, type: { after: 'http' } });

    // The change was published after its commit: the newest version of the config has the service's entry.
    const newest = (await models().EdgeConfigVersion.findOne({ order: [['id', 'DESC']] }))!;
    expect(newest.body).to.match(new RegExp(`^\\s*# service ${row.id}[: ]`, 'm'));

    const listed = await agent.get(`/containers/${ct.id}/services`).set('Accept', 'application/json').expect(200);
    expect(listed.body.services).to.deep.equal([res.body]);
    const shown = await agent.get(`/containers/${ct.id}/services/${row.id}`).set('Accept', 'application/json').expect(200);
    expect(shown.body).to.deep.equal(res.body);
    // A browser is sent to the container page's services section.
    const page = await agent.get(`/containers/${ct.id}/services`).set('Accept', 'text/html').expect(303);
    expect(page.headers.location).to.equal(`/containers/${ct.id}#services`);
  });

  it('adds a tcp service by the form (303 back with a flash), shows it on the container page, edits and deletes it by form', async () => {
    const { agent, user, csrf } = await signedInAgent(fixture.app);
    const ct = await createContainer({ managed: true, username: user.username });
    const added = await agent.post(`/containers/${ct.id}/services`).type('form').send({ type: 'tcp', internalPort: '5432', externalHostname: '', externalPort: '', tls: '1', _csrf: csrf }).expect(303);
    expect(added.headers.location).to.equal(`/containers/${ct.id}#services`);
    const row = (await models().Service.findOne({ where: { containerId: ct.id } }))!;
    expect(row).to.include({ type: 'tcp', internalPort: 5432, externalHostname: null });
    expect(row.externalPort).to.be.within(12000, 12999);
    expect(Boolean(row.tls)).to.equal(true);

    const page = await agent.get(`/containers/${ct.id}`).set('Accept', 'text/html').expect(200);
    expect(page.text).to.contain(`tcp ${row.externalPort} added`).and.contain(`<code>${row.externalPort}</code>`).and.contain(`/containers/${ct.id}/services/${row.id}/delete`);
    const edit = await agent.get(`/containers/${ct.id}/services/${row.id}`).set('Accept', 'text/html').expect(200);
    expect(edit.text).to.contain(`value="${row.externalPort}"`).and.contain('value="5432"');

    // An edit that leaves the external port empty keeps it.
    await agent.post(`/containers/${ct.id}/services/${row.id}`).type('form').send({ type: 'tcp', internalPort: '5433', externalPort: '', _csrf: csrf }).expect(303);
    await row.reload();
    expect(row.internalPort).to.equal(5433);
    expect(row.externalPort).to.be.within(12000, 12999);
    expect(Boolean(row.tls), 'the unticked box turns TLS off').to.equal(false);
    const [updated] = await events(ct.id, 'service.update');
    expect(JSON.parse(updated.changes!)).to.deep.equal({ serviceId: { before: row.id, after: row.id }, internalPort: { before: 5432, after: 5433 }, tls: { before: true, after: false } });

    await agent.post(`/containers/${ct.id}/services/${row.id}/delete`).type('form').send({ _csrf: csrf }).expect(303);
    expect(await models().Service.findByPk(row.id)).to.equal(null);
    const [deleted] = await events(ct.id, 'service.delete');
    expect(JSON.parse(deleted.changes!)).to.deep.include({ serviceId: { before: row.id }, type: { before: 'tcp' }, internalPort: { before: 5433 } });
  });

  it('changes and removes a service by PUT and DELETE', async () => {
    const { agent, user, csrf } = await signedInAgent(fixture.app, { admin: true });
    const ct = await createContainer({ managed: true, username: `someone-${label()}` });
    const created = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'udp', internalPort: 53, externalPort: 13053 }).expect(201);
    expect(created.body).to.include({ type: 'udp', externalPort: 13053, tls: false });
    const changed = await agent.put(`/containers/${ct.id}/services/${created.body.id}`).set('X-CSRF-Token', csrf).send({ type: 'tcp', internalPort: 22, externalPort: 12022, tls: true }).expect(200);
    expect(changed.body).to.include({ id: created.body.id, type: 'tcp', internalPort: 22, externalPort: 12022, tls: true, externalHostname: null, url: null });
    await agent.delete(`/containers/${ct.id}/services/${created.body.id}`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
    expect(await models().Service.count({ where: { containerId: ct.id } })).to.equal(0);
    expect((await events(ct.id, 'service.delete'))[0]!.actor).to.equal(user.username);
  });

  it("gives 404 to another user for a container's services and each service; the owner and an admin manage them", async () => {
    const owner = await signedInAgent(fixture.app);
    const other = await signedInAgent(fixture.app);
    const admin = await signedInAgent(fixture.app, { admin: true });
    const ct = await createContainer({ managed: true, username: owner.user.username });
    const svc = await createService({ containerId: ct.id, type: 'tcp', externalPort: 12500 });
    const body = { type: 'tcp', internalPort: 22 };
    await other.agent.get(`/containers/${ct.id}/services`).set('Accept', 'application/json').expect(404);
    await other.agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', other.csrf).send(body).expect(404);
    await other.agent.get(`/containers/${ct.id}/services/${svc.id}`).set('Accept', 'application/json').expect(404);
    await other.agent.put(`/containers/${ct.id}/services/${svc.id}`).set('X-CSRF-Token', other.csrf).send(body).expect(404);
    await other.agent.delete(`/containers/${ct.id}/services/${svc.id}`).set('Accept', 'application/json').set('X-CSRF-Token', other.csrf).expect(404);
    // A service is only found under its own container.
    const owned = await createContainer({ managed: true, username: owner.user.username });
    await owner.agent.get(`/containers/${owned.id}/services/${svc.id}`).set('Accept', 'application/json').expect(404);
    await owner.agent.put(`/containers/${ct.id}/services/${svc.id}`).set('X-CSRF-Token', owner.csrf).send({ ...body, externalPort: 12500 }).expect(200);
    await admin.agent.get(`/containers/${ct.id}/services`).set('Accept', 'application/json').expect(200);
    await admin.agent.delete(`/containers/${ct.id}/services/${svc.id}`).set('Accept', 'application/json').set('X-CSRF-Token', admin.csrf).expect(200);
  });

  describe('pointing the edge at another host', () => {
    it("refuses a user's service on a container Berth did not make (its address is typed), and lets an admin add it", async () => {
      const user = await signedInAgent(fixture.app);
      const admin = await signedInAgent(fixture.app, { admin: true });
      const typed = await createContainer({ managed: false, username: user.user.username, status: 'running', ipv4Address: '10.0.0.1' });
      const refused = await user.agent.post(`/containers/${typed.id}/services`).set('X-CSRF-Token', user.csrf).send({ type: 'tcp', internalPort: 5432 }).expect(403);
      expect(refused.body.error).to.match(/only administrators publish its services/);
      expect(await testContext().db.models.Service.count({ where: { containerId: typed.id } })).to.equal(0);
      await admin.agent.post(`/containers/${typed.id}/services`).set('X-CSRF-Token', admin.csrf).send({ type: 'tcp', internalPort: 5432 }).expect(201);
    });

    it('refuses an owner changing the address or state of a container Berth made or one with services; an admin may', async () => {
      const user = await signedInAgent(fixture.app);
      const admin = await signedInAgent(fixture.app, { admin: true });
      const made = await createContainer({ managed: true, username: user.user.username, status: 'running' });
      const withService = await createContainer({ managed: false, username: user.user.username, status: 'running' });
      await createService({ containerId: withService.id, type: 'tcp', externalPort: 12510 });
      for (const ct of [made, withService]) {
        const before = ct.ipv4Address;
        const res = await user.agent.post(`/containers/${ct.id}`).set('Accept', 'application/json').set('X-CSRF-Token', user.csrf).send({ ipv4Address: '192.0.2.77' }).expect(422);
        expect(res.body.fields).to.have.property('ipv4Address');
        await user.agent.post(`/containers/${ct.id}`).set('Accept', 'application/json').set('X-CSRF-Token', user.csrf).send({ purpose: 'still mine to describe' }).expect(200);
        await ct.reload();
        expect(ct.ipv4Address).to.equal(before);
      }
      await admin.agent.post(`/containers/${made.id}`).set('Accept', 'application/json').set('X-CSRF-Token', admin.csrf).send({ ipv4Address: `192.0.2.${crypto.randomInt(100, 250)}` }).expect(200);
    });
  });

  describe("the ancestor's hijack", () => {
    it('refuses a registration without credentials (401) and with an edge token (403), writing nothing', async () => {
      const ct = await createContainer({ managed: true });
      const name = `${label()}.example.org`;
      // A visitor with a session but no login (so the CSRF check passes and authentication decides), and a made-up token.
      const anonymous = request.agent(fixture.app);
      const token0 = await csrfToken(anonymous);
      await anonymous.post(`/containers/${ct.id}/services`).set('Accept', 'application/json').set('X-CSRF-Token', token0).send({ type: 'http', internalPort: 80, externalHostname: name }).expect(401);
      await request(fixture.app).post(`/containers/${ct.id}/services`).set('Authorization', 'Bearer berth_not-a-token').send({ type: 'http', internalPort: 80, externalHostname: name }).expect(401);
      const { user } = await signedInAgent(fixture.app, { admin: true });
      const { token } = await createApiToken(testCommand({ actor: { username: user.username } }), { userId: user.id, name: `edge ${label()}`, scope: 'edge' });
      await request(fixture.app).post(`/containers/${ct.id}/services`).set('Authorization', `Bearer ${token}`).send({ type: 'http', internalPort: 80, externalHostname: name }).expect(403);
      expect(await models().Service.count({ where: { externalHostname: name } })).to.equal(0);
    });

    it('refuses a user a name under a domain users may not claim, outside every domain, or two labels deep (422)', async () => {
      const { agent, user, csrf } = await signedInAgent(fixture.app);
      const ct = await createContainer({ managed: true, username: user.username });
      const closed = await createDomain({ userClaimable: false });
      const open = await createDomain({ userClaimable: true });
      for (const name of [`${label()}.${closed.name}`, `${label()}.elsewhere-${label()}.org`, `a.${label()}.${open.name}`, open.name]) {
        const res = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'http', internalPort: 80, externalHostname: name }).expect(422);
        // The message lists (at most five of) the open domains; other tests add open domains to the shared database, so which five is not this test's to know.
        expect(res.body.fields.externalHostname, name).to.contain(`You may not take ${name}.`).and.contain('Use one label under <name>.');
      }
      expect(await models().Service.count({ where: { containerId: ct.id } })).to.equal(0);
    });

    it("answers 409 for a name another owner's service holds, without saying whose", async () => {
      const victim = await signedInAgent(fixture.app);
      const victimCt = await createContainer({ managed: true, username: victim.user.username, hostname: `victim-${label()}.example.org` });
      const domain = await createDomain({ userClaimable: true });
      const name = `${label()}.${domain.name}`;
      await victim.agent.post(`/containers/${victimCt.id}/services`).set('X-CSRF-Token', victim.csrf).send({ type: 'http', internalPort: 80, externalHostname: name }).expect(201);

      const { agent, user, csrf } = await signedInAgent(fixture.app);
      const ct = await createContainer({ managed: true, username: user.username });
      const res = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'http', internalPort: 80, externalHostname: name }).expect(409);
      expect(res.body.error).to.contain('already taken');
      const form = await agent.post(`/containers/${ct.id}/services`).type('form').send({ type: 'http', internalPort: '80', externalHostname: name, _csrf: csrf }).expect(409);
      for (const text of [JSON.stringify(res.body), form.text]) {
        expect(text).not.to.contain(victim.user.username).and.not.to.contain(victimCt.hostname).and.not.to.contain(`/containers/${victimCt.id}`);
      }
      expect(form.text).to.contain('already taken').and.contain(`value="${name}"`);
      // An admin cannot take it either: a name is never taken from its owner.
      const admin = await signedInAgent(fixture.app, { admin: true });
      await admin.agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', admin.csrf).send({ type: 'http', internalPort: 80, externalHostname: name }).expect(409);
      const holders = await models().Service.findAll({ where: { externalHostname: name } });
      expect(holders.map((s) => s.containerId)).to.deep.equal([victimCt.id]);
    });

    it('lets an admin take any valid name: under a closed domain (its domain) or outside every domain (none)', async () => {
      const { agent, csrf } = await signedInAgent(fixture.app, { admin: true });
      const ct = await createContainer({ managed: true });
      const closed = await createDomain({ userClaimable: false });
      const under = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'http', internalPort: 80, externalHostname: `${label()}.${closed.name}` }).expect(201);
      expect(under.body.domain).to.equal(closed.name);
      const outside = await agent.post(`/containers/${ct.id}/services`).set('X-CSRF-Token', csrf).send({ type: 'http', internalPort: 80, externalHostname: `${label()}.nowhere-${label()}.org` }).expect(201);
      expect(outside.body.domain).to.equal(null);
      expect((await models().Service.findByPk(outside.body.id))!.domainId).to.equal(null);
    });

    it("lets an owner edit a service that keeps a name an admin gave it, but not take another such name", async () => {
      const owner = await signedInAgent(fixture.app);
      const ct = await createContainer({ managed: true, username: owner.user.username });
      const closed = await createDomain({ userClaimable: false });
      const given = `${label()}.${closed.name}`;
      const svc = await createService({ containerId: ct.id, externalHostname: given, domainId: closed.id });
      const kept = await owner.agent.put(`/containers/${ct.id}/services/${svc.id}`).set('X-CSRF-Token', owner.csrf).send({ type: 'http', internalPort: 9090, externalHostname: given }).expect(200);
      expect(kept.body).to.include({ internalPort: 9090, externalHostname: given, domain: closed.name });
      await owner.agent.put(`/containers/${ct.id}/services/${svc.id}`).set('X-CSRF-Token', owner.csrf).send({ type: 'http', internalPort: 9090, externalHostname: `${label()}.${closed.name}` }).expect(422);
      expect((await svc.reload()).externalHostname).to.equal(given);
    });
  });

  it('re-renders the add form with field messages and what was typed (422), escaped', async () => {
    const { agent, user, csrf } = await signedInAgent(fixture.app);
    const ct = await createContainer({ managed: true, username: user.username });
    const res = await agent.post(`/containers/${ct.id}/services`).type('form').send({ type: 'udp', internalPort: '70000', externalHostname: '<b>x</b>', tls: '1', _csrf: csrf }).expect(422);
    expect(res.text).to.contain('The internal port is a number from 1 to 65535.').and.contain('&lt;b&gt;x&lt;/b&gt;').and.not.contain('<b>x</b>');
    expect(res.text).to.contain('Add a service').and.contain(`/containers/${ct.id}"`);
    const rules = await agent.post(`/containers/${ct.id}/services`).type('form').send({ type: 'udp', internalPort: '53', tls: '1', _csrf: csrf }).expect(422);
    expect(rules.text).to.contain('TLS is for tcp services only');
    const edit = await createService({ containerId: ct.id, type: 'tcp', externalPort: 12600 });
    const refused = await agent.post(`/containers/${ct.id}/services/${edit.id}`).type('form').send({ type: 'tcp', internalPort: '22', externalPort: '99', _csrf: csrf }).expect(422);
    expect(refused.text).to.contain('tcp services take external ports 12000-12999').and.contain('value="99"');
    expect((await models().Service.findByPk(edit.id))!.externalPort).to.equal(12600);
    expect(await models().Service.count({ where: { containerId: ct.id } })).to.equal(1);
  });
});
