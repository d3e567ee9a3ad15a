import crypto from 'node:crypto';
import { expect } from 'chai';
import { Op } from 'sequelize';
import request from 'supertest';
import type { User } from '../../../models/index.js';
import { createContainer, createVm } from '../../factories/inventory.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';

describe('inventory: admin bulk edit of selected rows', function () {
  this.timeout(30_000);
  const fixture = useApp();
  const models = () => testContext().db.models;
  const word = (prefix: string) => `${prefix}${crypto.randomBytes(4).toString('hex')}`;
  let admin: { agent: ReturnType<typeof request.agent>; csrf: string; user: User };
  let user: { agent: ReturnType<typeof request.agent>; csrf: string; user: User };

  before(async () => {
    for (const [role, build] of [['admin', createAdminUser], ['user', createUser]] as const) {
      const built = await build();
      const agent = request.agent(fixture.app);
      await login(agent, built.user.username, built.password);
      const entry = { agent, csrf: await csrfToken(agent, '/'), user: built.user };
      if (role === 'admin') admin = entry;
      else user = entry;
    }
  });

  const post = (path: string, body: Record<string, unknown>, who = admin) => who.agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', who.csrf).send(body);
  const events = (objectType: string, ids: number[]) =>
    models().AuditEvent.findAll({ where: { objectType, objectId: { [Op.in]: ids.map(String) }, action: { [Op.like]: '%.bulk-update' } }, order: [['id', 'ASC']] });
  const reload = async (id: number) => (await models().Container.findByPk(id))!;

  it('changes owner, expiry and tags on the selected rows only, one audit event per changed record', async () => {
    const t = word('k');
    const a = await createContainer({ username: 'old-owner', tags: `${t},keep` });
    const b = await createContainer({ username: null, expiresAt: '2030-01-01', tags: null });
    const untouched = await createContainer({ username: 'old-owner', tags: t });
    // The owner rule (src/inventory/owners.ts): the new owner is a known user.
    const newOwner = (await createUser({ username: `new-owner-${t}@pve`, realm: 'pve' })).user.username;
    const res = await post('/containers/bulk', { ids: [a.id, b.id], owner: newOwner, expiresAt: '2032-12-31', addTags: `${t}-new extra`, removeTags: 'keep' }).expect(200);
    expect(res.body).to.deep.equal({ updated: 2 });
    expect(await reload(a.id)).to.include({ username: newOwner, expiresAt: '2032-12-31', tags: `${t},${t}-new,extra` });
    expect(await reload(b.id)).to.include({ username: newOwner, expiresAt: '2032-12-31', tags: `${t}-new,extra` });
    expect(await reload(untouched.id)).to.include({ username: 'old-owner', expiresAt: null, tags: t });
    const trail = await events('container', [a.id, b.id, untouched.id]);
    expect(trail.map((e) => [e.objectId, e.action, e.actor])).to.deep.equal([
      [String(a.id), 'container.bulk-update', admin.user.username],
      [String(b.id), 'container.bulk-update', admin.user.username],
    ]);
    const changes = JSON.parse(trail[0].changes!);
    expect(changes.username).to.deep.equal({ before: 'old-owner', after: newOwner });
    expect(changes.tags).to.deep.equal({ before: `${t},keep`, after: `${t},${t}-new,extra` });
  });

  it('clears owner and expiry, removes tags, and counts only the records that changed', async () => {
    const a = await createContainer({ username: 'someone', expiresAt: '2030-01-01', tags: 'x1,x2' });
    const already = await createContainer({ username: null, expiresAt: null, tags: 'x1' });
    const res = await post('/containers/bulk', { ids: `${a.id},${already.id}`, clearOwner: true, clearExpiry: '1', removeTags: 'x2' }).expect(200);
    expect(res.body).to.deep.equal({ updated: 1 });
    expect(await reload(a.id)).to.include({ username: null, expiresAt: null, tags: 'x1' });
    expect((await events('container', [already.id])).length).to.equal(0);
    const emptied = await post('/containers/bulk', { ids: [already.id], removeTags: 'x1' }).expect(200);
    expect(emptied.body).to.deep.equal({ updated: 1 });
    expect((await reload(already.id)).tags).to.equal(null);
  });

  it('rolls back every row when one id is unknown, and writes no audit event', async () => {
    const a = await createContainer({ username: 'before' });
    const res = await post('/containers/bulk', { ids: [a.id, 2_000_000_000], owner: 'after' }).expect(422);
    expect(res.body.fields.ids).to.contain('2000000000');
    expect((await reload(a.id)).username).to.equal('before');
    expect(await events('container', [a.id])).to.deep.equal([]);
  });

  it('rolls back rows already written when a later row fails inside the transaction', async () => {
    const first = await createContainer({ tags: 'one' });
    const full = await createContainer({ tags: Array.from({ length: 20 }, (_, i) => `t${i}`).join(',') });
    const res = await post('/containers/bulk', { ids: [first.id, full.id], addTags: 'new', owner: user.user.username }).expect(422);
    expect(res.body.fields.addTags).to.contain(full.hostname).and.contain('too many tags');
    expect(await reload(first.id)).to.include({ tags: 'one', username: null });
    expect(await events('container', [first.id, full.id])).to.deep.equal([]);
  });

  it('validates the request: no change, conflicting fields, bad values, empty or oversized selection', async () => {
    const a = await createContainer();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ids: [a.id] }, 'input'],
      [{ ids: [a.id], owner: 'x', clearOwner: '1' }, 'owner'],
      [{ ids: [a.id], expiresAt: '2030-01-01', clearExpiry: true }, 'expiresAt'],
      [{ ids: [a.id], expiresAt: '2030-02-30' }, 'expiresAt'],
      [{ ids: [a.id], owner: 'bad owner; rm -rf' }, 'owner'],
      [{ ids: [a.id], addTags: 'Has Space!' }, 'addTags'],
      [{ ids: [a.id], addTags: 'a', removeTags: 'a' }, 'removeTags'],
      [{ ids: [], owner: 'x' }, 'ids'],
      [{ owner: 'x' }, 'ids'],
      [{ ids: ['abc'], owner: 'x' }, 'ids.0'],
      [{ ids: Array.from({ length: 1001 }, (_, i) => i + 1), owner: 'x' }, 'ids'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/containers/bulk', body).expect(422);
      expect(res.body.fields, JSON.stringify(body)).to.have.property(field);
    }
    expect(await events('container', [a.id])).to.deep.equal([]);
  });

  it('is refused to a non-admin (403) and to anonymous callers (401)', async () => {
    const mine = await createContainer({ username: user.user.username, tags: 'mine' });
    await post('/containers/bulk', { ids: [mine.id], addTags: 'x' }, user).expect(403);
    await post('/vms/bulk', { ids: [mine.id], addTags: 'x' }, user).expect(403);
    expect((await reload(mine.id)).tags).to.equal('mine');
    const anonymous = request.agent(fixture.app);
    const token = await csrfToken(anonymous, '/login');
    await anonymous.post('/containers/bulk').set('Accept', 'application/json').set('X-CSRF-Token', token).send({ ids: [mine.id], addTags: 'x' }).expect(401);
  });

  it('from the list form: redirects to a local returnTo with a flash, never to another site', async () => {
    const a = await createContainer({ tags: 'form' });
    const ok = await admin.agent.post('/containers/bulk').type('form').send({ _csrf: admin.csrf, ids: String(a.id), addTags: 'formed', returnTo: '/containers?tag=form&page=2' }).expect(303);
    expect(ok.headers.location).to.equal('/containers?tag=form&page=2');
    expect((await reload(a.id)).tags).to.equal('form,formed');
    const page = await admin.agent.get('/containers?tag=formed').set('Accept', 'text/html').expect(200);
    expect(page.text).to.contain('1 of 1 selected container changed.');
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const res = await admin.agent.post('/containers/bulk').type('form').send({ _csrf: admin.csrf, ids: String(a.id), addTags: 'again', returnTo }).expect(303);
      expect(res.headers.location).to.equal('/containers');
    }
  });

  it('from the list form: a refused edit re-renders the list (422) with the message and the selection kept', async () => {
    const t = word('f');
    const a = await createContainer({ tags: t });
    const res = await admin.agent.post('/containers/bulk').type('form').send({ _csrf: admin.csrf, ids: [String(a.id)], owner: '<b>bad</b>', returnTo: `/containers?tag=${t}` }).expect(422);
    expect(res.text).to.contain('A username uses letters').and.contain('value="&lt;b&gt;bad&lt;/b&gt;"').and.not.contain('<b>bad</b>');
    expect(res.text).to.contain(a.hostname).and.contain(`value="${a.id}" form="bulk-form" aria-label="Select ${a.hostname}" checked`);
    expect(res.text).to.contain(`name="returnTo" value="/containers?tag=${t}"`);
  });

  it('edits VMs the same way, audited as vm.bulk-update', async () => {
    const vm = await createVm({ username: 'was', tags: 'lab' });
    const res = await post('/vms/bulk', { ids: [vm.id], owner: user.user.username, addTags: 'win' }).expect(200);
    expect(res.body).to.deep.equal({ updated: 1 });
    expect((await models().VirtualMachine.findByPk(vm.id))!).to.include({ username: user.user.username, tags: 'lab,win' });
    expect((await events('vm', [vm.id])).map((e) => e.action)).to.deep.equal(['vm.bulk-update']);
    await post('/vms/bulk', { ids: [vm.id, 2_000_000_001], owner: 'x' }).expect(422);
  });
});
