// GET /nginx.conf: who may pull (only an administrator's edge token, or an allow-listed address),
// ETag / If-None-Match (304 without reading the registry), a publish by another instance reaching
// the next pull, and X-Berth-Edge recorded on the Edge row without turning every pull into a write.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { EDGE_STATE_ID } from '../../../models/EdgeState.js';
import { createApiToken } from '../../../src/services/apiTokens.js';
import { publishEdgeConfig } from '../../../src/edge/publish.js';
import { createContainer } from '../../factories/inventory.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { createApp } from '../../../src/app.js';
import { createLogger } from '../../../src/lib/logger.js';
import { useApp } from '../../support/app.js';
import { withFreshDatabase } from '../../support/databases.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { signedInAgent } from '../../support/login.js';

const models = () => testContext().db.models;
const sha = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** A fresh API token of `scope` for a new user (an admin when `admin`). */
async function tokenFor(scope: 'read' | 'write' | 'edge', admin: boolean): Promise<string> {
  const { user } = admin ? await createAdminUser() : await createUser();
  const { token } = await createApiToken(testCommand({ actor: { username: user.username } }), { userId: user.id, name: `edge-test-${scope}`, scope });
  return token;
}

/** Adds a running container with an http-free tcp service, so the registry changes. */
async function addService(): Promise<number> {
  const container = await createContainer({ status: 'running' });
  const port = 20_000 + crypto.randomInt(0, 9_999);
  const row = await models().Service.create({ containerId: container.id, type: 'tcp', internalPort: 22, externalPort: port, externalHostname: null });
  return row.id;
}

describe('GET /nginx.conf', function () {
  this.timeout(60_000);
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none' });
  let edgeToken: string;

  before(async () => {
    edgeToken = await tokenFor('edge', true);
    await publishEdgeConfig(testCommand(), { reason: 'serve test setup' });
  });

  const pull = () => request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${edgeToken}`);

  describe('who may pull', () => {
    it('refuses a request without credentials with 401 and a Bearer challenge', async () => {
      const res = await request(fixture.app).get('/nginx.conf');
      expect(res.status).to.equal(401);
      expect(res.headers['www-authenticate']).to.match(/^Bearer /);
      expect(res.text).not.to.match(/proxy_pass|server \{/);
    });

    it('refuses a browser without credentials with 401 too, not a redirect to the login page', async () => {
      const res = await request(fixture.app).get('/nginx.conf').set('Accept', 'text/html');
      expect(res.status).to.equal(401);
    });

    it("refuses a signed-in administrator's session", async () => {
      const { agent } = await signedInAgent(fixture.app, { admin: true });
      const res = await agent.get('/nginx.conf');
      expect(res.status).to.equal(403);
      expect(res.body.error).to.match(/edge token/);
    });

    it("refuses an administrator's write and read tokens", async () => {
      for (const scope of ['write', 'read'] as const) {
        const res = await request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${await tokenFor(scope, true)}`);
        expect(res.status, scope).to.equal(403);
      }
    });

    it('refuses an edge token whose owner is not an administrator', async () => {
      const res = await request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${await tokenFor('edge', false)}`);
      expect(res.status).to.equal(403);
      expect(res.body.error).to.match(/not an administrator/);
    });

    it("serves an administrator's edge token: text/plain, the strong ETag of the body, the version number", async () => {
      const res = await pull();
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('text/plain; charset=utf-8');
      expect(res.headers.etag).to.equal(`"${sha(res.text)}"`);
      const state = await models().EdgeState.findByPk(EDGE_STATE_ID);
      expect(res.headers['x-berth-version']).to.equal(String(state!.servedVersionId));
      const row = await models().EdgeConfigVersion.findByPk(state!.servedVersionId!);
      expect(res.text).to.equal(row!.body);
    });

    it('refuses an edge token everywhere else (it may only pull and report)', async () => {
      const res = await request(fixture.app).get('/containers').set('Authorization', `Bearer ${edgeToken}`).set('Accept', 'application/json');
      expect(res.status).to.equal(403);
    });
  });

  describe('ETag and If-None-Match', () => {
    it('answers 304 with the same ETag and version and no body when the edge has the text', async () => {
      const first = await pull();
      const res = await pull().set('If-None-Match', first.headers.etag!);
      expect(res.status).to.equal(304);
      expect(res.headers.etag).to.equal(first.headers.etag);
      expect(res.headers['x-berth-version']).to.equal(first.headers['x-berth-version']);
      expect(res.text ?? '').to.equal('');
    });

    it('answers 304 when the ETag is one of a list, and 200 when none matches', async () => {
      const { etag } = (await pull()).headers;
      const hit = await pull().set('If-None-Match', `"${'0'.repeat(64)}", ${etag!}`);
      expect(hit.status).to.equal(304);
      const miss = await pull().set('If-None-Match', `"${'0'.repeat(64)}", "${'1'.repeat(64)}"`);
      expect(miss.status).to.equal(200);
      expect(miss.headers.etag).to.equal(etag);
    });

    it('answers HEAD with the headers and no body', async () => {
      const get = await pull();
      const head = await request(fixture.app).head('/nginx.conf').set('Authorization', `Bearer ${edgeToken}`);
      expect(head.status).to.equal(200);
      expect(head.headers.etag).to.equal(get.headers.etag);
      expect(head.text ?? '').to.equal('');
    });

    it('answers 304 without reading the registry (no Service, Container or version body query)', async () => {
      const { etag } = (await pull()).headers;
      const seen: string[] = [];
      const { sequelize } = testContext().db;
      // Sequelize reads options.logging on every query (its typings do not declare `options`).
      const options = (sequelize as unknown as { options: { logging?: unknown } }).options;
      const before = options.logging;
      options.logging = (sql: string) => seen.push(sql);
      try {
        const res = await pull().set('If-None-Match', etag!);
        expect(res.status).to.equal(304);
      } finally {
        options.logging = before;
      }
      const registry = seen.filter((sql) => /`?Services`?|`?Containers`?|`?PublicDomains`?|`?EdgeConfigVersions`?/.test(sql));
      expect(registry, seen.join('\n')).to.deep.equal([]);
      // The pull read EdgeState's row (and the token), nothing more.
      expect(seen.some((sql) => /EdgeStates/.test(sql))).to.equal(true);
    });
  });

  describe('a publish elsewhere', () => {
    it('serves a version another instance published (a row and the EdgeState update) at the next pull', async () => {
      const before = await pull();
      const previous = (await models().EdgeState.findByPk(EDGE_STATE_ID))!.servedVersionId;
      const body = `# published by another instance ${crypto.randomUUID()}\n`;
      const row = await models().EdgeConfigVersion.create({ body, sha256: sha(body), status: 'published', reason: 'serve test: another instance' });
      await models().EdgeState.update({ servedVersionId: row.id }, { where: { id: EDGE_STATE_ID } });
      try {
        const res = await pull().set('If-None-Match', before.headers.etag!);
        expect(res.status).to.equal(200);
        expect(res.text).to.equal(body);
        expect(res.headers.etag).to.equal(`"${sha(body)}"`);
        expect(res.headers['x-berth-version']).to.equal(String(row.id));
      } finally {
        await models().EdgeState.update({ servedVersionId: previous }, { where: { id: EDGE_STATE_ID } });
        await row.destroy();
      }
      const after = await pull();
      expect(after.headers.etag).to.equal(before.headers.etag);
    });

    it('serves the next version after a registry change is published', async () => {
      const before = await pull();
      await addService();
      const result = await publishEdgeConfig(testCommand(), { reason: 'serve test: a service added' });
      expect(result.changed).to.equal(true);
      const res = await pull().set('If-None-Match', before.headers.etag!);
      expect(res.status).to.equal(200);
      expect(res.headers['x-berth-version']).to.equal(String(result.version.id));
      expect(res.headers.etag).to.equal(`"${result.version.sha256}"`);
    });
  });

  describe('X-Berth-Edge', () => {
    it('creates the Edge row on its first pull with the time, address and version', async () => {
      const name = `edge-${crypto.randomBytes(4).toString('hex')}`;
      const res = await pull().set('X-Berth-Edge', name);
      expect(res.status).to.equal(200);
      const edge = await models().Edge.findOne({ where: { name } });
      expect(edge).to.not.equal(null);
      expect(edge!.lastPullVersionId).to.equal(Number(res.headers['x-berth-version']));
      expect(edge!.lastPullAddress).to.match(/127\.0\.0\.1|::1/);
      expect(edge!.lastPullAt).to.be.instanceOf(Date);
    });

    it('does not write on every pull: a second pull of the same version within a minute leaves the row alone', async () => {
      const name = `edge-${crypto.randomBytes(4).toString('hex')}`;
      await pull().set('X-Berth-Edge', name);
      const first = await models().Edge.findOne({ where: { name } });
      await models().Edge.update({ lastPullAddress: 'marker' }, { where: { name } });
      await pull().set('X-Berth-Edge', name);
      const second = await models().Edge.findOne({ where: { name } });
      expect(second!.lastPullAddress).to.equal('marker');
      expect(second!.lastPullVersionId).to.equal(first!.lastPullVersionId);
    });

    it('refuses a name with characters outside the rule (422), and records nothing', async () => {
      const res = await pull().set('X-Berth-Edge', 'bad name;').set('Accept', 'application/json');
      expect(res.status).to.equal(422);
      expect(res.body.fields).to.have.property('x-berth-edge');
      expect(await models().Edge.count({ where: { name: 'bad name;' } })).to.equal(0);
    });
  });
});

describe('GET /nginx.conf with the pull cache (EDGE_PULL_CACHE_MS)', function () {
  this.timeout(60_000);
  // A minute, so the test never races the cache's clock: what is trusted stays trusted throughout.
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none', EDGE_PULL_CACHE_MS: '60000' });
  let edgeToken: string;
  before(async () => {
    edgeToken = await tokenFor('edge', true);
  });
  const pull = () => request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${edgeToken}`);

  it('answers a repeated pull from memory, serves its own publishes at once and another instance\'s only when the cache time is over', async () => {
    await publishEdgeConfig(testCommand(), { reason: 'pull cache test setup' });
    const first = await pull().expect(200);

    // A 304 from memory: no SQL at all (the token and the served version are both trusted).
    const sequelize = testContext().db.sequelize;
    const original = sequelize.query.bind(sequelize);
    let statements = 0;
    sequelize.query = ((...args: Parameters<typeof original>) => (statements++, original(...args))) as typeof original;
    try {
      await pull().set('If-None-Match', first.headers.etag!).expect(304);
    } finally {
      sequelize.query = original;
    }
    expect(statements, 'SQL statements for a cached 304').to.equal(0);

    // Another instance publishes: this one keeps serving what it read, within the cache time.
    const previous = (await models().EdgeState.findByPk(EDGE_STATE_ID))!.servedVersionId;
    const body = `# published by another instance ${crypto.randomUUID()}\n`;
    const elsewhere = await models().EdgeConfigVersion.create({ body, sha256: sha(body), status: 'published', reason: 'pull cache test: another instance' });
    await models().EdgeState.update({ servedVersionId: elsewhere.id }, { where: { id: EDGE_STATE_ID } });
    try {
      expect((await pull().set('If-None-Match', first.headers.etag!)).status).to.equal(304);
    } finally {
      await models().EdgeState.update({ servedVersionId: previous }, { where: { id: EDGE_STATE_ID } });
      await elsewhere.destroy();
    }

    // This instance publishes: served at the very next pull.
    await addService();
    const mine = await publishEdgeConfig(testCommand(), { reason: 'pull cache test: a service added' });
    expect(mine.changed).to.equal(true);
    const next = await pull().set('If-None-Match', first.headers.etag!).expect(200);
    expect(next.headers['x-berth-version']).to.equal(String(mine.version.id));
  });
});

describe('GET /nginx.conf from an allow-listed address', function () {
  this.timeout(30_000);
  // supertest connects over loopback: IPv4 (plain or mapped into IPv6) or ::1.
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none', EDGE_ALLOW_ADDRESSES: '127.0.0.0/8,::1' });

  it('serves the config without a token', async () => {
    const res = await request(fixture.app).get('/nginx.conf');
    expect(res.status).to.equal(200);
    expect(res.headers.etag).to.equal(`"${sha(res.text)}"`);
  });

  it('still refuses a token that is not an edge token (a token says who calls)', async () => {
    const res = await request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${await tokenFor('write', true)}`);
    expect(res.status).to.equal(403);
  });
});

describe('GET /nginx.conf on an empty install', function () {
  this.timeout(60_000);

  it('publishes the first version at the first pull, then serves it', async () => {
    await withFreshDatabase(async (db, base) => {
      const config = { ...base, EDGE_NGINX_BINARY: 'none', EDGE_ALLOW_ADDRESSES: ['127.0.0.0/8', '::1'] };
      const built = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
      try {
        expect(await db.models.EdgeConfigVersion.count()).to.equal(0);
        const res = await request(built.app).get('/nginx.conf');
        expect(res.status).to.equal(200);
        const versions = await db.models.EdgeConfigVersion.findAll();
        expect(versions).to.have.length(1);
        expect(versions[0]!.reason).to.equal('first pull: nothing published yet');
        expect(res.headers['x-berth-version']).to.equal(String(versions[0]!.id));
        expect(res.headers.etag).to.equal(`"${versions[0]!.sha256}"`);
        expect(res.text).to.equal(versions[0]!.body);
        expect((await db.models.EdgeState.findByPk(EDGE_STATE_ID))!.servedVersionId).to.equal(versions[0]!.id);
      } finally {
        await built.stop();
      }
    });
  });
});
