// Public domains (admin): add, edit, delete (refused while services use it), one default switched in
// one transaction; audited; names under a new domain move to it; users cannot reach any of it.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { createDomain, createService } from '../../factories/edge.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { signedInAgent } from '../../support/login.js';

const models = () => testContext().db.models;
const unique = () => `dom-${crypto.randomBytes(4).toString('hex')}.example.com`;
const events = (domainId: number, action: string) => models().AuditEvent.findAll({ where: { objectType: 'publicDomain', objectId: String(domainId), action }, order: [['id', 'ASC']] });

describe('edge: public domains (admin)', function () {
  this.timeout(30_000);
  // No nginx -t on each publish: the domain rules are under test here, the check is the publisher's.
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none' });

  it('adds a domain by the form and by JSON, lists it, and audits publicDomain.create', async () => {
    const { agent, user, csrf } = await signedInAgent(fixture.app, { admin: true });
    const name = unique();
    const res = await agent.post('/admin/domains').type('form').send({ name: name.toUpperCase(), certificatePath: '/etc/ssl/x/fullchain.pem', keyPath: '/etc/ssl/x/privkey.pem', userClaimable: '1', _csrf: csrf }).expect(303);
    expect(res.headers.location).to.equal('/admin/domains');
    const row = (await models().PublicDomain.findOne({ where: { name } }))!;
    expect(row).to.include({ certificatePath: '/etc/ssl/x/fullchain.pem', keyPath: '/etc/ssl/x/privkey.pem' });
    expect(Boolean(row.userClaimable)).to.equal(true);
    expect(Boolean(row.isDefault)).to.equal(false);
    const [created] = await events(row.id, 'publicDomain.create');
    expect(created.actor).to.equal(user.username);
    expect(JSON.parse(created.changes!)).to.deep.include({ name: { after: name }, userClaimable: { after: true } });

    const page = await agent.get('/admin/domains').set('Accept', 'text/html').expect(200);
    expect(page.text).to.contain(name).and.contain(`Domain ${name} added.`).and.contain(`/admin/domains/${row.id}/default`);
    const other = unique();
    const json = await agent.post('/admin/domains').set('X-CSRF-Token', csrf).send({ name: other, userClaimable: false }).expect(201);
    expect(json.headers.location).to.equal(`/admin/domains/${json.body.domain.id}`);
    expect(json.body.domain).to.include({ name: other, certificatePath: null, keyPath: null, userClaimable: false, isDefault: false });
    const listed = await agent.get('/admin/domains').set('Accept', 'application/json').expect(200);
    expect(listed.body.domains.map((d: { name: string }) => d.name)).to.include.members([name, other]);
    const dup = await agent.post('/admin/domains').set('X-CSRF-Token', csrf).send({ name: other }).expect(409);
    expect(dup.body.fields.name).to.contain('already a domain');
  });

  it('edits a domain (audited with before/after); refuses a rename while services use it', async () => {
    const { agent, csrf } = await signedInAgent(fixture.app, { admin: true });
    const domain = await createDomain();
    const edit = await agent.get(`/admin/domains/${domain.id}`).set('Accept', 'text/html').expect(200);
    expect(edit.text).to.contain(`value="${domain.name}"`);
    await agent.post(`/admin/domains/${domain.id}`).type('form').send({ name: domain.name, certificatePath: '/etc/ssl/a.pem', keyPath: '/etc/ssl/a.key', userClaimable: '1', _csrf: csrf }).expect(303);
    await domain.reload();
    expect(domain.certificatePath).to.equal('/etc/ssl/a.pem');
    const [updated] = await events(domain.id, 'publicDomain.update');
    expect(JSON.parse(updated.changes!)).to.deep.equal({
      certificatePath: { before: null, after: '/etc/ssl/a.pem' }, keyPath: { before: null, after: '/etc/ssl/a.key' }, userClaimable: { before: false, after: true },
    });
    await createService({ externalHostname: `web.${domain.name}`, domainId: domain.id });
    const refused = await agent.post(`/admin/domains/${domain.id}`).type('form').send({ name: unique(), _csrf: csrf }).expect(409);
    expect(refused.text).to.contain('cannot be renamed while 1 service use it');
    expect((await domain.reload()).certificatePath).to.equal('/etc/ssl/a.pem');
  });

  it('refuses to delete a domain while services use it (409, clear message); deletes it once they are gone, audited', async () => {
    const { agent, csrf } = await signedInAgent(fixture.app, { admin: true });
    const domain = await createDomain();
    const service = await createService({ externalHostname: `shop.${domain.name}`, domainId: domain.id });
    const json = await agent.post(`/admin/domains/${domain.id}/delete`).set('X-CSRF-Token', csrf).send({}).expect(409);
    expect(json.body.error).to.equal(`${domain.name} is used by 1 service; remove or rename them first.`);
    const page = await agent.post(`/admin/domains/${domain.id}/delete`).type('form').send({ _csrf: csrf }).expect(409);
    expect(page.text).to.contain(`${domain.name} is used by 1 service`);
    expect(await models().PublicDomain.findByPk(domain.id)).not.to.equal(null);
    await service.destroy();
    await agent.post(`/admin/domains/${domain.id}/delete`).type('form').send({ _csrf: csrf }).expect(303);
    expect(await models().PublicDomain.findByPk(domain.id)).to.equal(null);
    expect(await events(domain.id, 'publicDomain.delete')).to.have.length(1);
  });

  it('keeps exactly one default domain, switched in one step (even by two admins at once)', async () => {
    const { agent, csrf } = await signedInAgent(fixture.app, { admin: true });
    const [a, b, c] = [await createDomain(), await createDomain(), await createDomain()];
    await agent.post(`/admin/domains/${a.id}/default`).type('form').send({ _csrf: csrf }).expect(303);
    const defaults = () => models().PublicDomain.findAll({ where: { isDefault: true } });
    expect((await defaults()).map((d) => d.id)).to.deep.equal([a.id]);
    const res = await agent.post(`/admin/domains/${b.id}/default`).set('X-CSRF-Token', csrf).send({}).expect(200);
    expect(res.body.domain).to.include({ id: b.id, isDefault: true });
    expect((await defaults()).map((d) => d.id)).to.deep.equal([b.id]);
    const [event] = await events(b.id, 'publicDomain.default');
    expect(JSON.parse(event.changes!)).to.deep.equal({ isDefault: { before: false, after: true }, previousDefault: { before: a.name } });
    await Promise.all([a, c].map((d) => agent.post(`/admin/domains/${d.id}/default`).set('X-CSRF-Token', csrf).send({}).expect(200)));
    const after = await defaults();
    expect(after, 'one default after two switches at once').to.have.length(1);
    expect([a.id, c.id]).to.include(after[0]!.id);
  });

  it('moves the names one label under a new domain to it (they get its certificate)', async () => {
    const { agent, csrf } = await signedInAgent(fixture.app, { admin: true });
    const name = unique();
    const direct = await createService({ externalHostname: `api.${name}`, domainId: null });
    const deeper = await createService({ externalHostname: `a.b.${name}`, domainId: null });
    const res = await agent.post('/admin/domains').set('X-CSRF-Token', csrf).send({ name });
    expect(res.status, res.text).to.equal(201);
    expect((await direct.reload()).domainId).to.equal(res.body.domain.id);
    expect((await deeper.reload()).domainId).to.equal(null);
    const [created] = await events(res.body.domain.id, 'publicDomain.create');
    expect(JSON.parse(created.changes!)).to.deep.include({ servicesMoved: { after: 1 } });
  });

  it('is for admins only: a user gets 403 on every domain route', async () => {
    const { agent, csrf } = await signedInAgent(fixture.app);
    const domain = await createDomain();
    await agent.get('/admin/domains').set('Accept', 'application/json').expect(403);
    await agent.post('/admin/domains').set('X-CSRF-Token', csrf).send({ name: unique() }).expect(403);
    for (const suffix of ['', '/delete', '/default']) await agent.post(`/admin/domains/${domain.id}${suffix}`).set('X-CSRF-Token', csrf).send({ name: unique() }).expect(403);
    expect(await models().PublicDomain.findByPk(domain.id)).to.include({ name: domain.name });
  });
});
