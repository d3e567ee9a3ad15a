// Issue 10: changing a node's API URL (or TLS settings) kept the stored API token, so an admin session
// could send the token to any host with "Test connection". A new address or TLS policy now needs the
// token secret again; a refused change writes nothing, and the token never reaches the other host.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { createNode } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';
import { ADMIN_TOKEN, removeNodesRegisteredHere, startSim, type StartedSim } from '../../support/pve-sim.js';
import { track } from '../../support/resources.js';

const NEW_SECRET = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';

interface Listener {
  url: string;
  /** The Authorization header of every request it received. */
  authorizations: string[];
  close(): Promise<void>;
}

/** A host that is not the node: it records what reaches it and answers like nothing Proxmox. */
async function startListener(): Promise<Listener> {
  const authorizations: string[] = [];
  const server = http.createServer((req, res) => {
    authorizations.push(String(req.headers.authorization ?? ''));
    res.writeHead(401).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = track(`listener ${url}`, () => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url, authorizations, close };
}

describe('security: a node token goes only where it was entered for', () => {
  const fixture = useApp();
  let sim: StartedSim | undefined;
  let other: Listener | undefined;
  removeNodesRegisteredHere();
  afterEach(async () => {
    await sim?.close();
    await other?.close();
    sim = other = undefined;
  });

  async function admin() {
    const { user, password } = await createUser({ role: 'admin' });
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    return { agent, csrf: await csrfToken(agent, '/nodes') };
  }
  const stored = async (id: number) => (await testContext().db.models.Node.findByPk(id))!.get({ plain: true });
  const updates = (id: number) => testContext().db.models.AuditEvent.count({ where: { objectType: 'node', objectId: String(id), action: 'node.update' } });

  it('refuses a new API URL or TLS setting without the secret (422, nothing written), so "Test connection" cannot carry the token away', async () => {
    sim = await startSim();
    other = await startListener();
    const { agent, csrf } = await admin();
    const node = await createNode({ name: `pve${crypto.randomBytes(3).toString('hex')}`, apiUrl: sim.url, apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: ADMIN_TOKEN.secret });
    const before = await stored(node.id);

    // JSON: each of the three settings alone, with the secret absent or blank.
    for (const change of [{ apiUrl: other.url }, { apiUrl: other.url, apiTokenSecret: '' }, { tlsVerify: false }, { tlsFingerprint: 'AB:'.repeat(31) + 'AB' }]) {
      const res = await agent.put(`/nodes/${node.id}`).set('X-CSRF-Token', csrf).send(change).expect(422);
      expect(res.body.error, JSON.stringify(change)).to.equal('The API URL or TLS settings changed: enter the token secret again.');
      expect(res.body.fields).to.have.keys('apiTokenSecret');
    }
    // The form: re-rendered with the field error and the submitted address.
    const form = await agent.post(`/nodes/${node.id}`).type('form')
      .send({ _csrf: csrf, name: node.name, apiUrl: other.url, tlsVerify: '1', tlsFingerprint: '', apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: '' })
      .expect(422);
    expect(form.text).to.include('Enter the token secret again: the API URL or TLS settings changed.').and.include(`value="${other.url}"`);
    expect(await stored(node.id)).to.deep.equal(before);
    expect(await updates(node.id)).to.equal(0);

    // "Test connection" still calls the node it was registered for; nothing reaches the other host.
    const test = await agent.post(`/nodes/${node.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
    expect(test.body.ok).to.equal(true);
    expect(other.authorizations).to.deep.equal([]);
    expect(sim.sim.requests.length).to.be.greaterThan(0);
  });

  it('saves a new address with a newly entered secret, and the old token never reaches it', async () => {
    sim = await startSim();
    other = await startListener();
    const { agent, csrf } = await admin();
    const node = await createNode({ apiUrl: sim.url, apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: ADMIN_TOKEN.secret });
    const saved = await agent.put(`/nodes/${node.id}`).set('X-CSRF-Token', csrf).send({ apiUrl: other.url, apiTokenSecret: NEW_SECRET }).expect(200);
    expect(saved.body.node).to.include({ apiUrl: other.url, hasSecret: true });
    const test = await agent.post(`/nodes/${node.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
    expect(test.body.ok).to.equal(false);
    expect(other.authorizations.length).to.be.greaterThan(0);
    expect(other.authorizations.join('\n')).to.include(NEW_SECRET).and.not.include(ADMIN_TOKEN.secret);
  });

  it('keeps the stored secret when the address and TLS settings stay as they are, or when the token is removed', async () => {
    const { agent, csrf } = await admin();
    const node = await createNode({ apiUrl: 'https://pve.example.org:8006', apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: ADMIN_TOKEN.secret });
    const sealed = node.apiTokenSecret;
    // The same values as stored, spelled as a browser sends them (trailing slash, ticked checkbox).
    await agent.post(`/nodes/${node.id}`).type('form')
      .send({ _csrf: csrf, name: `${node.name}x`, apiUrl: 'https://pve.example.org:8006/', tlsVerify: '1', tlsFingerprint: '', apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: '' })
      .expect(303);
    expect((await stored(node.id)).apiTokenSecret).to.equal(sealed);
    // Moving a node while dropping its token sends no token anywhere: allowed.
    await agent.put(`/nodes/${node.id}`).set('X-CSRF-Token', csrf).send({ apiUrl: 'https://pve2.example.org:8006', apiTokenId: null }).expect(200);
    expect(await stored(node.id)).to.include({ apiUrl: 'https://pve2.example.org:8006', apiTokenId: null, apiTokenSecret: null });
  });
});
