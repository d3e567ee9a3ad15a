// The admin's edge pages: the served and pinned versions, the latest versions with a rejected one's
// nginx -t output and its service, the edges; viewing and diffing versions; pinning (the pinned text
// is served with its own ETag until unpinned), unpinning, publishing by hand; and edge tokens,
// which only administrators may create.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { EDGE_STATE_ID } from '../../../models/EdgeState.js';
import { publishEdgeConfig } from '../../../src/edge/publish.js';
import { createApiToken } from '../../../src/services/apiTokens.js';
import { createContainer } from '../../factories/inventory.js';
import { createAdminUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { signedInAgent, type SignedInAgent } from '../../support/login.js';

const models = () => testContext().db.models;
const sha = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** A version row as another publisher would have stored it. */
async function storedVersion(status: 'published' | 'rejected', extra: Record<string, unknown> = {}) {
  const body = `# admin test ${status} ${crypto.randomUUID()}\nevents {}\n`;
  return models().EdgeConfigVersion.create({ body, sha256: sha(body), status, reason: `admin test ${status}`, changes: '+ # service 1: made up', ...extra });
}

describe('the edge admin pages', function () {
  this.timeout(60_000);
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none' });
  let admin: SignedInAgent;
  let edgeToken: string;

  before(async () => {
    admin = await signedInAgent(fixture.app, { admin: true });
    edgeToken = (await createApiToken(testCommand(), { userId: admin.user.id, name: 'admin-test-edge', scope: 'edge' })).token;
    await publishEdgeConfig(testCommand(), { reason: 'admin test setup' });
  });

  // Whatever a test pinned, edges get the newest published version again afterwards.
  afterEach(async () => {
    const state = await models().EdgeState.findByPk(EDGE_STATE_ID);
    if (state?.pinnedVersionId) await admin.agent.post('/admin/edge/unpin').set('X-CSRF-Token', admin.csrf).set('Accept', 'application/json');
  });

  const pull = () => request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${edgeToken}`);
  const post = (path: string) => admin.agent.post(path).set('X-CSRF-Token', admin.csrf).set('Accept', 'application/json');

  it('shows the served version, the latest versions and the edges to an admin, and refuses a user (403)', async () => {
    const edge = `admin-page-${crypto.randomBytes(3).toString('hex')}`;
    await pull().set('X-Berth-Edge', edge);
    const rejected = await storedVersion('rejected', { checked: true, checkOutput: 'nginx: [emerg] cannot load certificate "/etc/ssl/x <b>.pem"', checkServiceId: 999_999_999 });
    try {
      const page = await admin.agent.get('/admin/edge').set('Accept', 'text/html');
      expect(page.status).to.equal(200);
      expect(page.text).to.include('Publish now');
      expect(page.text).to.include(`Version ${rejected.id}`);
      // nginx's words, exactly, escaped.
      expect(page.text).to.include('nginx: [emerg] cannot load certificate &#34;/etc/ssl/x &lt;b&gt;.pem&#34;');
      expect(page.text).to.include(edge);
      expect(page.text).to.include('href="/tokens"');
      expect(page.text).not.to.match(/<script>|style="/);

      const json = await admin.agent.get('/admin/edge').set('Accept', 'application/json');
      const state = await models().EdgeState.findByPk(EDGE_STATE_ID);
      expect(json.body.served.id).to.equal(state!.servedVersionId);
      expect(json.body.versions.map((v: { id: number }) => v.id)).to.include(rejected.id);
      expect(json.body.edges.find((e: { name: string }) => e.name === edge)).to.include({ lastPullVersionId: state!.servedVersionId, lastPullStatus: 200, appliedVersionId: null, runsServed: null });

      const user = await signedInAgent(fixture.app);
      expect((await user.agent.get('/admin/edge').set('Accept', 'application/json')).status).to.equal(403);
      expect((await request(fixture.app).get('/admin/edge').set('Accept', 'application/json')).status).to.equal(401);
    } finally {
      await rejected.destroy();
    }
  });

  it("links a rejected version to its service's container", async () => {
    const container = await createContainer({ status: 'running' });
    const service = await models().Service.create({ containerId: container.id, type: 'tcp', internalPort: 22, externalPort: 20_000 + crypto.randomInt(0, 9_999), externalHostname: null });
    const rejected = await storedVersion('rejected', { checked: true, checkOutput: 'nginx: [emerg] bad', checkServiceId: service.id });
    try {
      const json = await admin.agent.get('/admin/edge').set('Accept', 'application/json');
      const v = json.body.versions.find((x: { id: number }) => x.id === rejected.id);
      expect(v.checkServiceLink).to.equal(`/containers/${container.id}#services`);
      const page = await admin.agent.get('/admin/edge').set('Accept', 'text/html');
      expect(page.text).to.include(`href="/containers/${container.id}#services"`);
    } finally {
      await rejected.destroy();
      await service.destroy();
    }
  });

  it('says what each edge runs from its applied reports, not from a refusal or a 304 for a refused version', async () => {
    const name = `runs-${crypto.randomBytes(3).toString('hex')}`;
    const edgePull = (match?: string) => {
      const req = pull().set('X-Berth-Edge', name);
      return match ? req.set('If-None-Match', match) : req;
    };
    const edgeReport = (body: Record<string, unknown>) => request(fixture.app).post('/edges/report').set('Authorization', `Bearer ${edgeToken}`).send({ edge: name, ...body });
    const edgeOnPage = async () => (await admin.agent.get('/admin/edge').set('Accept', 'application/json')).body.edges.find((e: { name: string }) => e.name === name);

    // It pulls the served version, applies it and says so.
    const first = await edgePull();
    expect(first.status).to.equal(200);
    const runs = { id: Number(first.headers['x-berth-version']), sha256: sha(first.text) };
    expect((await edgeReport({ version: runs.id, sha256: runs.sha256, result: 'applied', output: 'test is successful' })).status).to.equal(204);
    expect(await edgeOnPage()).to.include({ appliedVersionId: runs.id, appliedSha256: runs.sha256, appliedVersionKept: true, runsServed: true, lastPullStatus: 200 });

    // A new version is published; the edge gets it and refuses it.
    const container = await createContainer({ status: 'running' });
    await models().Service.create({ containerId: container.id, type: 'tcp', internalPort: 22, externalPort: 20_000 + crypto.randomInt(0, 9_999), externalHostname: null });
    const published = await publishEdgeConfig(testCommand(), { reason: 'admin test: a version the edge refuses' });
    expect(published.changed).to.equal(true);
    const fetched = await edgePull(`"${runs.sha256}"`);
    expect(fetched.status).to.equal(200);
    const refusal = 'nginx: [emerg] cannot load certificate "/etc/edge/<missing>.pem"';
    expect((await edgeReport({ version: published.version.id, sha256: published.version.sha256, result: 'rejected', output: refusal })).status).to.equal(204);

    // bin/berth-edge-pull sends its file's sha256 and the refused one: Berth answers 304 for the refused one.
    const again = await edgePull(`"${runs.sha256}", "${published.version.sha256}"`);
    expect(again.status).to.equal(304);
    const row = await models().Edge.findOne({ where: { name } });
    expect(row!.lastPullStatus).to.equal(304);
    expect(row!.lastPullVersionId).to.equal(published.version.id);
    expect(row!.appliedVersionId).to.equal(runs.id);

    const view = await edgeOnPage();
    expect(view).to.include({ appliedVersionId: runs.id, appliedSha256: runs.sha256, runsServed: false, lastResult: 'rejected', lastReportVersionId: published.version.id, lastOutput: refusal, lastPullStatus: 304 });
    const page = await admin.agent.get('/admin/edge').set('Accept', 'text/html');
    const li = page.text.slice(page.text.indexOf(`<h3>${name}</h3>`));
    const entry = li.slice(0, li.indexOf('</li>'));
    expect(entry).to.include(`href="/admin/edge/versions/${runs.id}"`);
    expect(entry).to.include('not the served version');
    expect(entry).to.include(`not modified (it named version ${published.version.id}&#39;s ETag)`);
    expect(entry).to.match(/<details>\s*<summary>nginx output of the last report \(rejected, version \d+\)<\/summary>/);
    expect(entry).to.include('nginx: [emerg] cannot load certificate &#34;/etc/edge/&lt;missing&gt;.pem&#34;');
  });

  it('diffs each listed version with the previous one Berth still keeps, across gaps', async () => {
    const a = await storedVersion('published');
    const gone = await storedVersion('published');
    const c = await storedVersion('published');
    await gone.destroy();
    try {
      const json = await admin.agent.get('/admin/edge').set('Accept', 'application/json');
      const listed = json.body.versions as Array<{ id: number; previousId: number | null }>;
      expect(listed.find((v) => v.id === c.id)!.previousId).to.equal(a.id);
      // Each one's previous is the next one down the list (the last one's, the first beyond it).
      for (let i = 0; i + 1 < listed.length; i++) expect(listed[i]!.previousId).to.equal(listed[i + 1]!.id);
      const page = await admin.agent.get('/admin/edge').set('Accept', 'text/html');
      expect(page.text).to.include(`href="/admin/edge/diff?from=${a.id}&amp;to=${c.id}"`);
      expect(page.text).not.to.include(`from=${gone.id}&amp;`);
    } finally {
      await a.destroy();
      await c.destroy();
    }
  });

  it('shows a version and a unified diff of any two', async () => {
    const a = await storedVersion('published');
    const b = await storedVersion('published');
    try {
      const view = await admin.agent.get(`/admin/edge/versions/${a.id}`).set('Accept', 'text/html');
      expect(view.status).to.equal(200);
      expect(view.text).to.include(a.body.split('\n')[0]!);
      const json = await admin.agent.get(`/admin/edge/versions/${a.id}`).set('Accept', 'application/json');
      expect(json.body.body).to.equal(a.body);

      const diff = await admin.agent.get(`/admin/edge/diff?from=${a.id}&to=${b.id}`).set('Accept', 'application/json');
      expect(diff.status).to.equal(200);
      expect(diff.body.diff).to.include(`--- version ${a.id}`);
      expect(diff.body.diff).to.include(`+${b.body.split('\n')[0]}`);
      expect(diff.body.diff).to.include(`-${a.body.split('\n')[0]}`);
      const page = await admin.agent.get(`/admin/edge/diff?from=${b.id}&to=${a.id}`).set('Accept', 'text/html');
      expect(page.status).to.equal(200);
      expect(page.text).to.include('diff-add');

      expect((await admin.agent.get('/admin/edge/diff?from=x&to=1').set('Accept', 'application/json')).status).to.equal(422);
      expect((await admin.agent.get(`/admin/edge/diff?from=${a.id}&to=2000000000`).set('Accept', 'application/json')).status).to.equal(404);
      expect((await admin.agent.get('/admin/edge/versions/2000000000').set('Accept', 'application/json')).status).to.equal(404);
    } finally {
      await a.destroy();
      await b.destroy();
    }
  });

  it('serves a pinned version with its own ETag whatever is published meanwhile, and the newest again once unpinned', async () => {
    const pinned = await storedVersion('published');
    const res = await post(`/admin/edge/versions/${pinned.id}/pin`);
    expect(res.status).to.equal(200);
    const pulled = await pull();
    expect(pulled.text).to.equal(pinned.body);
    expect(pulled.headers.etag).to.equal(`"${pinned.sha256}"`);
    expect(pulled.headers['x-berth-version']).to.equal(String(pinned.id));

    // A registry change is published, but edges keep the pinned text.
    const container = await createContainer({ status: 'running' });
    await models().Service.create({ containerId: container.id, type: 'tcp', internalPort: 22, externalPort: 20_000 + crypto.randomInt(0, 9_999), externalHostname: null });
    const published = await publishEdgeConfig(testCommand(), { reason: 'admin test: published while pinned' });
    expect(published.changed).to.equal(true);
    expect((await pull().set('If-None-Match', `"${pinned.sha256}"`)).status).to.equal(304);

    const unpin = await post('/admin/edge/unpin');
    expect(unpin.status).to.equal(200);
    expect(unpin.body.servedVersionId).to.equal(published.version.id);
    const after = await pull().set('If-None-Match', `"${pinned.sha256}"`);
    expect(after.status).to.equal(200);
    expect(after.headers.etag).to.equal(`"${published.version.sha256}"`);

    const events = await models().AuditEvent.findAll({ where: { actor: admin.user.username, action: ['edge.pin', 'edge.unpin'] }, order: [['id', 'ASC']] });
    expect(events.map((e) => e.action)).to.deep.equal(['edge.pin', 'edge.unpin']);
    await pinned.destroy();
  });

  it('refuses to pin a rejected version (409) and a user (403)', async () => {
    const rejected = await storedVersion('rejected', { checked: true, checkOutput: 'nginx: [emerg] no' });
    try {
      const res = await post(`/admin/edge/versions/${rejected.id}/pin`);
      expect(res.status).to.equal(409);
      expect((await models().EdgeState.findByPk(EDGE_STATE_ID))!.pinnedVersionId).to.equal(null);
      const user = await signedInAgent(fixture.app);
      const asUser = await user.agent.post(`/admin/edge/versions/${rejected.id}/pin`).set('X-CSRF-Token', user.csrf).set('Accept', 'application/json');
      expect(asUser.status).to.equal(403);
    } finally {
      await rejected.destroy();
    }
  });

  it('publishes by hand from the page, audited as edge.publish', async () => {
    const container = await createContainer({ status: 'running' });
    await models().Service.create({ containerId: container.id, type: 'tcp', internalPort: 22, externalPort: 20_000 + crypto.randomInt(0, 9_999), externalHostname: null });
    const form = await admin.agent.post('/admin/edge/publish').type('form').send({ _csrf: admin.csrf });
    expect(form.status).to.equal(303);
    expect(form.headers.location).to.equal('/admin/edge');
    const newest = await models().EdgeConfigVersion.findOne({ order: [['id', 'DESC']] });
    expect(newest!.reason).to.equal(`published by hand (${admin.user.username})`);
    expect(newest!.createdBy).to.equal(admin.user.username);
    const again = await post('/admin/edge/publish');
    expect(again.status).to.equal(200);
    expect(again.body).to.include({ changed: false });
    expect(await models().AuditEvent.count({ where: { actor: admin.user.username, action: 'edge.publish' } })).to.equal(2);
  });
});

describe('edge tokens', function () {
  this.timeout(30_000);
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none' });

  it('may be created by an admin (and then pull), not by a user (422 on the scope)', async () => {
    const admin = await signedInAgent(fixture.app, { admin: true });
    const made = await admin.agent.post('/tokens').set('X-CSRF-Token', admin.csrf).set('Accept', 'application/json').send({ name: 'edge one', scope: 'edge' });
    expect(made.status).to.equal(201);
    expect(made.body.scope).to.equal('edge');
    expect((await request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${made.body.token}`)).status).to.equal(200);

    const user = await signedInAgent(fixture.app);
    const refused = await user.agent.post('/tokens').set('X-CSRF-Token', user.csrf).set('Accept', 'application/json').send({ name: 'sneaky', scope: 'edge' });
    expect(refused.status).to.equal(422);
    expect(refused.body.fields).to.have.property('scope');
    expect(await models().ApiToken.count({ where: { userId: user.user.id } })).to.equal(0);
  });

  it("stops working when its owner is no longer an admin", async () => {
    const { user } = await createAdminUser();
    const { token } = await createApiToken(testCommand(), { userId: user.id, name: 'demoted', scope: 'edge' });
    expect((await request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${token}`)).status).to.equal(200);
    await user.update({ role: 'user' });
    expect((await request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${token}`)).status).to.equal(403);
  });
});
