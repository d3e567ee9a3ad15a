// Nodes (admin): register, edit, delete (refused while containers or VMs use it), the token secret
// sealed and never rendered back, and "test connection" against the simulator (version, or the
// exact error for a wrong token and a wrong fingerprint).
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { MASK } from '../../../src/audit/index.js';
import { createContainer, createNode, createVm } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfFrom, csrfToken, login } from '../../support/login.js';
import { ADMIN_TOKEN, removeNodesRegisteredHere, startSim, type StartedSim } from '../../support/pve-sim.js';

const SECRET = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
const hex = () => crypto.randomBytes(3).toString('hex');

describe('inventory: nodes', () => {
  const fixture = useApp();
  let sim: StartedSim | undefined;
  removeNodesRegisteredHere();
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  async function admin() {
    const { user, password } = await createUser({ role: 'admin' });
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    return { user, agent, csrf: await csrfToken(agent, '/nodes') };
  }
  const events = (objectId: number, action: string) => testContext().db.models.AuditEvent.findAll({ where: { objectType: 'node', objectId: String(objectId), action } });

  it('registers a node from the form, sealing the token secret, which no page or JSON ever shows', async () => {
    const { agent, csrf, user } = await admin();
    const name = `pve${hex()}`;
    const res = await agent.post('/nodes').type('form')
      .send({ _csrf: csrf, name, apiUrl: 'https://pve.example.org:8006/', tlsVerify: '1', tlsFingerprint: '', apiTokenId: 'root@pam!berth', apiTokenSecret: SECRET.toUpperCase() })
      .expect(303);
    const node = (await testContext().db.models.Node.findOne({ where: { name } }))!;
    expect(res.headers.location).to.equal(`/nodes/${node.id}`);
    expect(node.apiUrl).to.equal('https://pve.example.org:8006');
    expect(node.tlsVerify).to.equal(true);
    expect(node.apiTokenSecret).to.match(/^v1:[0-9a-f]{16}:/).and.not.include(SECRET);

    for (const path of ['/nodes', `/nodes/${node.id}`, `/nodes/${node.id}/edit`]) {
      const html = (await agent.get(path).expect(200)).text;
      expect(html, path).to.include(name).and.not.include(SECRET).and.not.include(node.apiTokenSecret!);
      const json = await agent.get(path === `/nodes/${node.id}/edit` ? `/nodes/${node.id}` : path).set('Accept', 'application/json').expect(200);
      expect(JSON.stringify(json.body)).not.to.include(SECRET).and.not.include(node.apiTokenSecret!);
    }
    const edit = (await agent.get(`/nodes/${node.id}/edit`).expect(200)).text;
    expect(edit).to.match(/A secret is stored; leave blank to keep it/).and.match(/name="apiTokenSecret"[^>]*value=""/);
    const one = await agent.get(`/nodes/${node.id}`).set('Accept', 'application/json').expect(200);
    expect(one.body.node).to.include({ name, tlsMode: 'verify', apiTokenId: 'root@pam!berth', hasSecret: true }).and.not.have.property('apiTokenSecret');

    const [created] = await events(node.id, 'node.create');
    expect(created.actor).to.equal(user.username);
    const changes = JSON.parse(created.changes!);
    expect(changes.apiTokenSecret).to.deep.equal({ after: MASK });
    expect(changes.name).to.deep.equal({ after: name });
  });

  it('refuses bad input with a message per field and writes nothing', async () => {
    const { agent, csrf } = await admin();
    const before = await testContext().db.models.Node.count();
    const bad = await agent.post('/nodes').set('Accept', 'application/json').set('X-CSRF-Token', csrf)
      .send({ name: 'pve_1', apiUrl: 'https://root:pw@pve.example.org:8006', tlsFingerprint: 'AB:CD', apiTokenId: 'root!berth', apiTokenSecret: 'not-a-uuid' })
      .expect(422);
    expect(bad.body.fields).to.have.keys('name', 'apiUrl', 'tlsFingerprint', 'apiTokenId', 'apiTokenSecret');
    expect(bad.body.fields.apiUrl).to.include('credentials');
    for (const [apiUrl, words] of [['ftp://pve:21', 'https://'], ['https://pve:8006/some/path', 'no path'], ['pve.example.org', 'e.g.']]) {
      const res = await agent.post('/nodes').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ name: `pve${hex()}`, apiUrl }).expect(422);
      expect(res.body.fields.apiUrl, apiUrl).to.include(words);
    }
    const half = await agent.post('/nodes').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ name: `pve${hex()}`, apiUrl: 'https://pve:8006', apiTokenId: 'root@pam!berth' }).expect(422);
    expect(half.body.fields.apiTokenSecret).to.equal('Enter the token secret.');
    const form = await agent.post('/nodes').type('form').send({ _csrf: csrf, name: '-pve', apiUrl: 'https://pve:8006', apiTokenSecret: SECRET }).expect(422);
    expect(form.text).to.include('A node name uses letters').and.include('value="-pve"').and.not.include(SECRET);
    expect(await testContext().db.models.Node.count()).to.equal(before);
  });

  it('answers a name clash with a field error: 409 in JSON, the form re-rendered', async () => {
    const { agent, csrf } = await admin();
    const taken = await createNode();
    const json = await agent.post('/nodes').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ name: taken.name, apiUrl: 'https://pve:8006' }).expect(409);
    expect(json.body.fields.name).to.equal(`A node called ${taken.name} is already registered.`);
    const other = await createNode();
    const form = await agent.post(`/nodes/${other.id}`).type('form').send({ _csrf: csrf, name: taken.name, apiUrl: other.apiUrl }).expect(409);
    expect(form.text).to.include(`A node called ${taken.name} is already registered.`);
    await other.reload();
    expect(other.name).not.to.equal(taken.name);
  });

  it('updates a node: a blank secret keeps the stored one, a new one is re-sealed and audited masked', async () => {
    const { agent, csrf } = await admin();
    const node = await createNode({ apiTokenId: 'root@pam!berth', apiTokenSecret: SECRET });
    const sealed = node.apiTokenSecret;
    // Same address and TLS settings (a changed one needs the secret again: test/integration/security/).
    await agent.post(`/nodes/${node.id}`).type('form')
      .send({ _csrf: csrf, name: `${node.name}-b`, apiUrl: 'https://127.0.0.1:8006', tlsVerify: '1', tlsFingerprint: '', apiTokenId: 'root@pam!berth', apiTokenSecret: '' })
      .expect(303);
    await node.reload();
    expect(node.apiTokenSecret).to.equal(sealed);
    const [update] = await events(node.id, 'node.update');
    expect(JSON.parse(update.changes!)).to.deep.equal({ name: { before: node.name.slice(0, -2), after: node.name } });

    const fp = 'ab'.repeat(32);
    const put = await agent.put(`/nodes/${node.id}`).set('X-CSRF-Token', csrf).send({ apiTokenSecret: ADMIN_TOKEN.secret, tlsFingerprint: fp }).expect(200);
    expect(put.body.node).to.include({ tlsMode: 'pinned fingerprint', tlsFingerprint: fp.toUpperCase().match(/../g)!.join(':') });
    await node.reload();
    expect(node.apiTokenSecret).not.to.equal(sealed);
    const updates = await events(node.id, 'node.update');
    expect(updates).to.have.length(2);
    expect(JSON.parse(updates[1].changes!).apiTokenSecret).to.deep.equal({ before: MASK, after: MASK });
    expect(updates.map((e) => e.changes).join('')).not.to.include(ADMIN_TOKEN.secret).and.not.include(SECRET);
  });

  it('refuses to delete a node that containers or VMs still use, then deletes it once they are gone', async () => {
    const { agent, csrf } = await admin();
    const node = await createNode();
    const ct = await createContainer({ nodeId: node.id });
    const vm = await createVm({ nodeId: node.id });
    const refused = await agent.delete(`/nodes/${node.id}`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(409);
    expect(refused.body.error).to.equal(`${node.name} is still used by 1 container and 1 VM; move or delete them first.`);
    const page = await agent.post(`/nodes/${node.id}/delete`).type('form').send({ _csrf: csrf }).expect(409);
    expect(page.text).to.include('is still used by 1 container and 1 VM');
    const list = await agent.get('/nodes').set('Accept', 'application/json').expect(200);
    expect(list.body.nodes.find((n: { id: number }) => n.id === node.id)).to.include({ containers: 1, vms: 1 });
    expect(await events(node.id, 'node.delete')).to.have.length(0);

    await ct.destroy();
    await vm.destroy();
    await agent.post(`/nodes/${node.id}/delete`).type('form').send({ _csrf: csrf }).expect(303).expect('Location', '/nodes');
    expect(await testContext().db.models.Node.findByPk(node.id)).to.equal(null);
    const [deleted] = await events(node.id, 'node.delete');
    expect(JSON.parse(deleted.changes!).name).to.deep.equal({ before: node.name });
  });

  it('is for admins only', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    await agent.get('/nodes').expect(403);
    const csrf = csrfFrom((await agent.get('/account')).text);
    await agent.post('/nodes').set('X-CSRF-Token', csrf).send({ name: `pve${hex()}`, apiUrl: 'https://pve:8006' }).expect(403);
  });

  describe('test connection', () => {
    it('shows the Proxmox version, and the exact error for a wrong token', async () => {
      sim = await startSim();
      const { agent, csrf } = await admin();
      const node = await createNode({ apiUrl: sim.url, apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: ADMIN_TOKEN.secret });
      const ok = await agent.post(`/nodes/${node.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
      expect(ok.body).to.deep.equal({ ok: true, version: 'Proxmox VE 9.1.3 (release 9.1, repoid 2d9ae8ef)' });
      const page = await agent.post(`/nodes/${node.id}/test`).type('form').send({ _csrf: csrf }).expect(200);
      expect(page.text).to.include('Connected: <strong>Proxmox VE 9.1.3 (release 9.1, repoid 2d9ae8ef)</strong>');
      expect(sim.sim.requests.every((r) => r.user === 'root@pam!berth')).to.equal(true);

      await agent.put(`/nodes/${node.id}`).set('X-CSRF-Token', csrf).send({ apiTokenSecret: SECRET }).expect(200);
      const wrong = await agent.post(`/nodes/${node.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
      expect(wrong.body.ok).to.equal(false);
      expect(wrong.body.error).to.match(/^Authentication failed: Proxmox rejected the credentials/);
      expect(wrong.body.error).not.to.include(SECRET);
      const wrongPage = await agent.post(`/nodes/${node.id}/test`).type('form').send({ _csrf: csrf }).expect(200);
      expect(wrongPage.text).to.include('Connection failed').and.include('Authentication failed: Proxmox rejected the credentials');
    });

    it('says when there is no token, or the node cannot be reached', async () => {
      const { agent, csrf } = await admin();
      const bare = await createNode();
      const none = await agent.post(`/nodes/${bare.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
      expect(none.body).to.deep.equal({ ok: false, error: `${bare.name} has no API token configured.` });
      // A port nothing listens on: the connection is refused.
      sim = await startSim();
      const url = sim.url;
      await sim.close();
      sim = undefined;
      const gone = await createNode({ apiUrl: url, apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: ADMIN_TOKEN.secret });
      const res = await agent.post(`/nodes/${gone.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
      expect(res.body.ok).to.equal(false);
      expect(res.body.error).to.match(/^Unreachable: Proxmox at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
    });

    it('pins the certificate fingerprint: the right one connects, a wrong one is refused with the reason', async function () {
      this.timeout(60_000);
      sim = await startSim({ https: true });
      const { agent, csrf } = await admin();
      const node = await createNode({ apiUrl: sim.url, apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: ADMIN_TOKEN.secret, tlsFingerprint: sim.certs!.fingerprint256 });
      const ok = await agent.post(`/nodes/${node.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
      expect(ok.body.ok).to.equal(true);
      const wrongFp = 'AB:'.repeat(31) + 'AB';
      await agent.put(`/nodes/${node.id}`).set('X-CSRF-Token', csrf).send({ tlsFingerprint: wrongFp, apiTokenSecret: ADMIN_TOKEN.secret }).expect(200);
      const bad = await agent.post(`/nodes/${node.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
      expect(bad.body.ok).to.equal(false);
      expect(bad.body.error).to.match(/^TLS: TLS verification of https:\/\/127\.0\.0\.1:\d+ failed/).and.include(`does not match the pinned ${wrongFp}`);
      // Without a pin, verification against the system CAs refuses the simulator's private CA.
      await agent.put(`/nodes/${node.id}`).set('X-CSRF-Token', csrf).send({ tlsFingerprint: null, tlsVerify: true, apiTokenSecret: ADMIN_TOKEN.secret }).expect(200);
      const strict = await agent.post(`/nodes/${node.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
      expect(strict.body.error).to.match(/^TLS: /);
    });
  });
});
