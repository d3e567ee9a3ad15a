// "Test connection" on a node's page (issue 16): bounded by PROXMOX_TEST_TIMEOUT_MS (connections by
// PROXMOX_CONNECT_TIMEOUT_MS), never by the 15 s call timeout, and its message says what was tried:
// the URL, the token, for how long, and what happened (timeout, refused, TLS pin, 401). The form
// says it is busy while it runs (data-busy, public/js/berth.js).
import { expect } from 'chai';
import request from 'supertest';
import { createNode } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { csrfFrom, csrfToken, login } from '../../support/login.js';
import { ADMIN_TOKEN, removeNodesRegisteredHere, startSim, type StartedSim } from '../../support/pve-sim.js';
import { refusedPort, startSilentServer, type SilentServer } from '../../support/silent-tcp.js';

const WRONG_SECRET = '00000000-0000-4000-8000-000000000000';

type App = Parameters<typeof request.agent>[0];

async function signedInAdmin(app: App) {
  const { user, password } = await createUser({ role: 'admin' });
  const agent = request.agent(app);
  await login(agent, user.username, password);
  return { agent, csrf: await csrfToken(agent, '/nodes') };
}
const tokenNode = (apiUrl: string, extra: Parameters<typeof createNode>[0] = {}) => createNode({ apiUrl, apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: ADMIN_TOKEN.secret, tlsVerify: false, ...extra });

async function test(agent: request.Agent, csrf: string, nodeId: number): Promise<{ body: { ok: boolean; error?: string }; ms: number }> {
  const started = Date.now();
  const res = await agent.post(`/nodes/${nodeId}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(200);
  return { body: res.body, ms: Date.now() - started };
}

describe('nodes: test connection within a short, configured time', () => {
  // A test budget well apart from the connect timeout, so which one fired is clear on a loaded machine.
  const fixture = useApp({ PROXMOX_TEST_TIMEOUT_MS: '3000', PROXMOX_CONNECT_TIMEOUT_MS: '300' });
  removeNodesRegisteredHere();
  let silent: SilentServer | undefined;
  afterEach(async () => {
    await silent?.close();
    silent = undefined;
  });

  const admin = () => signedInAdmin(fixture.app);

  it('a node that accepts and never answers: a timeout after PROXMOX_TEST_TIMEOUT_MS, naming the URL and the time', async function () {
    this.timeout(40_000);
    silent = await startSilentServer();
    const { agent, csrf } = await admin();
    const node = await tokenNode(silent.url());
    const { body, ms } = await test(agent, csrf, node.id);
    expect(body).to.deep.equal({ ok: false, error: `Timeout: Proxmox at ${silent.url()} did not answer within 3 s (GET ${silent.url()}/api2/json/version)` });
    expect(ms, 'the test budget, not the 15 s call timeout').to.be.within(2950, 14_000);

    const page = await agent.post(`/nodes/${node.id}/test`).type('form').send({ _csrf: csrf }).expect(200);
    expect(page.text).to.match(/Connection failed after \d+(\.\d+)? s: <span class="node-test-error">Timeout: Proxmox at http:\/\/127\.0\.0\.1:\d+ did not answer within 3 s/);
  });

  it('a TLS handshake that never completes: the connect timeout, saying so', async function () {
    this.timeout(20_000);
    silent = await startSilentServer();
    const { agent, csrf } = await admin();
    const node = await tokenNode(silent.url('https'));
    const { body, ms } = await test(agent, csrf, node.id);
    expect(body.error).to.equal(`Timeout: Proxmox at ${silent.url('https')} did not accept a connection within 300 ms (connect timeout; GET ${silent.url('https')}/api2/json/version)`);
    // The connect timeout (300 ms, our own timer), not the 3 s test budget: 2.7 s of slack.
    expect(ms, 'ended by the connect timeout, not the test budget').to.be.lessThan(3000);
  });

  it('a port that refuses: unreachable, refused, with the address', async () => {
    const refused = await refusedPort();
    try {
      const { agent, csrf } = await admin();
      const node = await tokenNode(`http://127.0.0.1:${refused.port}`);
      const { body } = await test(agent, csrf, node.id);
      expect(body.error).to.match(new RegExp(`^Unreachable: Proxmox at http://127\\.0\\.0\\.1:${refused.port} is unreachable: connection refused: `));
    } finally {
      await refused.close();
    }
  });

  it('the node page: the test form says it is busy, the details sit in a scrolling table, and the last sync is shown', async () => {
    const { agent } = await admin();
    const node = await createNode();
    const page = (await agent.get(`/nodes/${node.id}`).expect(200)).text;
    expect(page).to.match(new RegExp(`<form method="post" action="/nodes/${node.id}/test" class="inline" data-busy="Testing connection…">`));
    expect(page).to.include('<div class="table-scroll" role="region" aria-label="Node details" tabindex="0">').and.match(/<th>Last sync<\/th><td class="wrap node-sync" data-result="never">not synced yet<\/td>/);
    const list = (await agent.get('/nodes').expect(200)).text;
    expect(list).to.include('<div class="table-scroll" role="region" aria-label="Nodes" tabindex="0">').and.include('<th>Last sync</th>');
  });

  it('is for admins, with a CSRF token', async () => {
    const node = await createNode();
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    const csrf = csrfFrom((await agent.get('/account')).text);
    await agent.post(`/nodes/${node.id}/test`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(403);
    const { agent: adminAgent } = await admin();
    await adminAgent.post(`/nodes/${node.id}/test`).set('Accept', 'application/json').expect(403);
    await adminAgent.post('/nodes/999999999/test').set('Accept', 'application/json').set('X-CSRF-Token', await csrfToken(adminAgent, '/nodes')).expect(404);
  });
});

describe('nodes: test connection reports what the node answered', () => {
  // Answers of the in-process simulator: a connect timeout of ~3 s, so that an event-loop stall on a
  // loaded machine cannot turn the 401 or the pin mismatch into a timeout (300 ms is for the cases
  // above that test the timeout itself).
  const fixture = useApp({ PROXMOX_TEST_TIMEOUT_MS: '10000', PROXMOX_CONNECT_TIMEOUT_MS: '3000' });
  removeNodesRegisteredHere();
  let sim: StartedSim | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('a wrong token (401) names the token and the URL tried, never the secret; a wrong pin names both fingerprints', async function () {
    this.timeout(30_000);
    sim = await startSim({ https: true });
    const { agent, csrf } = await signedInAdmin(fixture.app);
    const wrong = await tokenNode(sim.url, { apiTokenSecret: WRONG_SECRET, tlsFingerprint: sim.certs!.fingerprint256 });
    const denied = await test(agent, csrf, wrong.id);
    expect(denied.body.ok).to.equal(false);
    expect(denied.body.error).to.match(/^Authentication failed: Proxmox rejected the credentials/);
    expect(denied.body.error).to.include(`(token ${ADMIN_TOKEN.tokenId} at ${sim.url})`).and.not.include(WRONG_SECRET);

    const wrongFp = 'AB:'.repeat(31) + 'AB';
    const pinned = await tokenNode(sim.url, { tlsFingerprint: wrongFp });
    const refused = await test(agent, csrf, pinned.id);
    expect(refused.body.error).to.match(new RegExp(`^TLS: TLS verification of ${sim.url.replace(/\./g, '\\.')} failed \\(.*certificate fingerprint ${sim.certs!.fingerprint256.toUpperCase()} does not match the pinned ${wrongFp}`));
  });
});
