// The publish pipeline: a numbered version only when the rendered text changed, with what changed;
// publishers (several at once, and two instances on their own connections) never publish an older
// text after a newer one; a version nginx -t refuses is stored rejected with nginx's words and the
// service it points at, and edges keep the last good one; old versions are pruned.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Op } from 'sequelize';
import request from 'supertest';
import { EDGE_STATE_ID } from '../../../models/EdgeState.js';
import { publishEdgeConfig } from '../../../src/edge/publish.js';
import { EdgeRepublisher } from '../../../src/edge/republish.js';
import { containerKind } from '../../../src/inventory/kinds.js';
import { deleteRecord, updateRecord } from '../../../src/inventory/records.js';
import { createApiToken } from '../../../src/services/apiTokens.js';
import { createContainer } from '../../factories/inventory.js';
import { createAdminUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testConfig, testContext } from '../../support/context.js';

const models = () => testContext().db.models;
const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '../../..');

/** A publish context with `overrides` on the run's config (EDGE_* settings). */
function publisher(overrides: Record<string, string> = {}) {
  const config = testConfig(testContext().scratch.url, { EDGE_NGINX_BINARY: 'none', ...overrides });
  return testCommand({ config, actor: { username: 'publish-test' } });
}

const usedPorts = new Set<number>();
/** A tcp external port no other service of the run holds. */
async function freeTcpPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + crypto.randomInt(0, 10_000);
    if (usedPorts.has(port)) continue;
    usedPorts.add(port);
    if (!(await models().Service.count({ where: { type: 'tcp', externalPort: port } }))) return port;
  }
}

/** A running container with a tcp service: a new entry in the rendered config. */
async function addTcpService(): Promise<number> {
  const container = await createContainer({ status: 'running' });
  const row = await models().Service.create({ containerId: container.id, type: 'tcp', internalPort: 22, externalPort: await freeTcpPort(), externalHostname: null });
  return row.id;
}

/**
 * Another Berth instance (its own process and connection, test/integration/edge/publish-instance.ts)
 * publishing in a loop; `stop()` ends it and resolves to how many publishes it made.
 */
async function startSecondInstance(): Promise<{ stop(): Promise<number> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'publish-instance.ts')], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: testContext().scratch.url, SESSION_SECRET: 'test-session-secret-that-is-long-enough-1234567890' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = readline.createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const next = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => line.startsWith(prefix) && resolve(line));
      void exited.then((code) => reject(new Error(`the second instance exited (${code}) before "${prefix}": ${stderr}`)));
    });
  await next('ready');
  return {
    async stop() {
      const done = next('done ');
      child.stdin.end('stop\n');
      const count = Number((await done).slice('done '.length));
      await exited;
      return count;
    },
  };
}

const entryOf = (body: string, serviceId: number) => body.split('\n').some((l) => l.trimStart().startsWith(`# service ${serviceId}:`));
const newestId = async () => Number((await models().EdgeConfigVersion.max('id')) ?? 0);

describe('publishing the edge config', function () {
  this.timeout(120_000);

  it('stores a numbered version only when the rendered text changed, with the entries added and removed', async () => {
    const cmd = publisher();
    const first = await publishEdgeConfig(cmd, { reason: 'publish test: baseline' });
    const again = await publishEdgeConfig(cmd, { reason: 'publish test: nothing changed' });
    expect(again.changed).to.equal(false);
    expect(again.version).to.deep.equal(first.version);

    const serviceId = await addTcpService();
    const added = await publishEdgeConfig(cmd, { reason: `service ${serviceId} added` });
    expect(added.changed).to.equal(true);
    expect(added.version.id).to.be.greaterThan(first.version.id);
    expect(added.version.status).to.equal('published');
    const row = (await models().EdgeConfigVersion.findByPk(added.version.id))!;
    expect(row.reason).to.equal(`service ${serviceId} added`);
    expect(row.createdBy).to.equal('publish-test');
    expect(row.checked).to.equal(false);
    expect(row.sha256).to.equal(crypto.createHash('sha256').update(row.body).digest('hex'));
    expect(row.changes).to.match(new RegExp(`^\\+ # service ${serviceId}: tcp`, 'm'));
    expect(row.serviceCount).to.be.greaterThan(0);
    expect((await models().EdgeState.findByPk(EDGE_STATE_ID))!.servedVersionId).to.equal(added.version.id);

    await models().Service.destroy({ where: { id: serviceId } });
    const removed = await publishEdgeConfig(cmd, { reason: `service ${serviceId} removed` });
    expect(removed.changed).to.equal(true);
    const removedRow = (await models().EdgeConfigVersion.findByPk(removed.version.id))!;
    expect(removedRow.changes).to.match(new RegExp(`^- # service ${serviceId}: tcp`, 'm'));
    expect(entryOf(removedRow.body, serviceId)).to.equal(false);
  });

  it('describes a container that stopped as its entry changing (left out, with why)', async () => {
    const cmd = publisher();
    const container = await createContainer({ status: 'running' });
    const service = await models().Service.create({ containerId: container.id, type: 'tcp', internalPort: 22, externalPort: await freeTcpPort(), externalHostname: null });
    await publishEdgeConfig(cmd, { reason: 'publish test: running' });
    await container.update({ status: 'stopped' });
    const stopped = await publishEdgeConfig(cmd, { reason: `container ${container.hostname} stopped` });
    const row = (await models().EdgeConfigVersion.findByPk(stopped.version.id))!;
    expect(row.changes).to.include(`- # service ${service.id}: tcp`);
    expect(row.changes).to.include(`+ # service ${service.id} left out: container ${container.hostname} is stopped`);
  });

  it('never publishes an older text after a newer one, nor the same text twice in a row, with publishers racing in two instances', async () => {
    const cmd = publisher();
    const from = await newestId();
    const second = await startSecondInstance();
    const inserted: number[] = [];
    try {
      // While the other instance publishes in a loop: services added one by one, and four
      // publishers of this instance racing each other.
      const inserts = (async () => {
        for (let i = 0; i < 6; i++) inserted.push(await addTcpService());
      })();
      const publishing = [0, 1, 2, 3].map(async (k) => {
        for (let i = 0; i < 4; i++) await publishEdgeConfig(cmd, { reason: `race: publisher ${k} round ${i}` });
      });
      await Promise.all([inserts, ...publishing]);
    } finally {
      expect(await second.stop(), 'publishes by the second instance').to.be.greaterThan(0);
    }
    const last = await publishEdgeConfig(cmd, { reason: 'race: after the inserts' });

    const versions = await models().EdgeConfigVersion.findAll({ where: { id: { [Op.gt]: from } }, order: [['id', 'ASC']] });
    expect(versions.length).to.be.greaterThan(0);
    let seen = 0;
    for (const [i, v] of versions.entries()) {
      // The services in each version are a prefix of the insert order, never fewer than before.
      const present = inserted.map((id) => entryOf(v.body, id));
      const count = present.filter(Boolean).length;
      expect(present.slice(0, count).every(Boolean), `version ${v.id} has a gap: ${present.join(',')}`).to.equal(true);
      expect(count, `version ${v.id} has fewer services than the one before`).to.be.at.least(seen);
      seen = count;
      if (i > 0) expect(v.sha256, `versions ${versions[i - 1]!.id} and ${v.id}`).to.not.equal(versions[i - 1]!.sha256);
    }
    expect(seen).to.equal(inserted.length);
    expect(last.version.id).to.equal(versions[versions.length - 1]!.id);
    expect((await models().EdgeState.findByPk(EDGE_STATE_ID))!.servedVersionId).to.equal(last.version.id);
  });

  it('keeps EDGE_KEEP_VERSIONS versions, and always the served one', async () => {
    const cmd = publisher({ EDGE_KEEP_VERSIONS: '2' });
    for (let i = 0; i < 3; i++) {
      await addTcpService();
      await publishEdgeConfig(cmd, { reason: `prune test ${i}` });
    }
    const ids = (await models().EdgeConfigVersion.findAll({ attributes: ['id'], order: [['id', 'DESC']] })).map((v) => v.id);
    const served = (await models().EdgeState.findByPk(EDGE_STATE_ID))!.servedVersionId;
    expect(ids).to.have.length(2);
    expect(ids).to.include(served);
  });
});

describe('publishing after a container changes', function () {
  this.timeout(60_000);
  // The hooks publish with the run's config: no nginx -t here, to stay fast.
  const cmd = () => testCommand({ config: testConfig(testContext().scratch.url, { EDGE_NGINX_BINARY: 'none' }), actor: { username: 'record-editor' } });
  const newest = () => models().EdgeConfigVersion.findOne({ order: [['id', 'DESC']] });

  it("publishes once a record edit of a container with services commits (its address), and once its delete does", async () => {
    const container = await createContainer({ status: 'running' });
    const service = await models().Service.create({ containerId: container.id, type: 'tcp', internalPort: 22, externalPort: await freeTcpPort(), externalHostname: null });
    await publishEdgeConfig(cmd(), { reason: 'record hooks: baseline' });

    const address = `10.250.${crypto.randomInt(0, 255)}.${crypto.randomInt(1, 254)}`;
    await updateRecord(cmd(), containerKind, container, { ipv4Address: address });
    const edited = (await newest())!;
    expect(edited.reason).to.equal(`container ${container.hostname} changed (ipv4Address)`);
    expect(edited.createdBy).to.equal('record-editor');
    expect(edited.changes).to.include(`+ # service ${service.id}: tcp`);
    expect(edited.body).to.include(`${address}:22`);

    // A change the config does not show publishes nothing.
    await updateRecord(cmd(), containerKind, container, { purpose: 'not on the edge' });
    expect((await newest())!.id).to.equal(edited.id);

    await deleteRecord(cmd(), containerKind, container);
    const deleted = (await newest())!;
    expect(deleted.reason).to.equal(`container ${container.hostname} deleted`);
    expect(deleted.changes).to.include(`- # service ${service.id}: tcp`);
    expect(entryOf(deleted.body, service.id)).to.equal(false);
  });

  it('does not publish for a container without services', async () => {
    const container = await createContainer({ status: 'running' });
    await publishEdgeConfig(cmd(), { reason: 'record hooks: baseline 2' });
    const before = (await newest())!.id;
    await updateRecord(cmd(), containerKind, container, { status: 'stopped' });
    await deleteRecord(cmd(), containerKind, container);
    expect((await newest())!.id).to.equal(before);
  });

  it("re-renders on the runner's schedule, so a status written outside Berth's commands reaches the edge", async () => {
    const container = await createContainer({ status: 'running' });
    const service = await models().Service.create({ containerId: container.id, type: 'udp', internalPort: 53, externalPort: 30_000 + crypto.randomInt(0, 9_999), externalHostname: null });
    await publishEdgeConfig(cmd(), { reason: 'republisher: baseline' });
    // Written by hand (no command, so no publish).
    await models().Container.update({ status: 'stopped' }, { where: { id: container.id } });
    const republisher = new EdgeRepublisher(cmd(), 3600);
    await republisher.check();
    const version = (await newest())!;
    expect(version.reason).to.equal('scheduled re-render');
    expect(version.changes).to.include(`+ # service ${service.id} left out: container ${container.hostname} is stopped`);
    await republisher.stop();
  });
});

describe('a version nginx -t refuses', function () {
  this.timeout(120_000);
  // The check runs with the configured certificate paths (Berth on the edge host): made here.
  const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-edge-publish-'));
  const certificate = path.join(certDir, 'edge.crt');
  const key = path.join(certDir, 'edge.key');
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none' });
  const checking = () =>
    publisher({ EDGE_NGINX_BINARY: 'auto', EDGE_CHECK_CERTIFICATES: 'as-configured', EDGE_CERTIFICATE: certificate, EDGE_CERTIFICATE_KEY: key, EDGE_TEMP_DIR: certDir });
  let edgeToken: string;

  before(async function () {
    if (!fs.existsSync('/usr/sbin/nginx')) throw new Error('these tests need nginx at /usr/sbin/nginx (nginx-light and libnginx-mod-stream)');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', certificate, '-days', '2', '-subj', '/CN=edge.test'], { stdio: 'ignore' });
    const { user } = await createAdminUser();
    edgeToken = (await createApiToken(testCommand(), { userId: user.id, name: 'publish-test-edge', scope: 'edge' })).token;
  });

  after(() => fs.rmSync(certDir, { recursive: true, force: true }));

  const pull = () => request(fixture.app).get('/nginx.conf').set('Authorization', `Bearer ${edgeToken}`);

  it('is stored rejected with nginx -t output and the service, while edges keep the last good version', async () => {
    const cmd = checking();
    const good = await publishEdgeConfig(cmd, { reason: 'checked baseline' });
    expect(good.version.status, good.checkOutput ?? '').to.equal('published');
    const before = await pull();
    expect(before.headers.etag).to.equal(`"${good.version.sha256}"`);

    // A domain whose certificate is not on this host: nginx cannot load it.
    const missing = path.join(certDir, 'missing', 'nope.pem');
    const domain = await models().PublicDomain.create({ name: `bad-${crypto.randomBytes(4).toString('hex')}.example.net`, certificatePath: missing, keyPath: missing });
    const container = await createContainer({ status: 'running' });
    const service = await models().Service.create({ containerId: container.id, type: 'http', internalPort: 8080, externalPort: null, externalHostname: `app.${domain.name}`, domainId: domain.id });
    try {
      const bad = await publishEdgeConfig(cmd, { reason: `service ${service.id} added` });
      expect(bad.changed).to.equal(true);
      expect(bad.version.status).to.equal('rejected');
      expect(bad.checkOutput).to.include(missing);
      expect(bad.checkOutput).to.match(/\[emerg\]/);
      expect(bad.checkServiceId).to.equal(service.id);
      const row = (await models().EdgeConfigVersion.findByPk(bad.version.id))!;
      expect(row.status).to.equal('rejected');
      expect(row.checked).to.equal(true);
      expect(row.checkOutput).to.equal(bad.checkOutput);
      expect(row.checkServiceId).to.equal(service.id);

      // Edges keep the last good one: same ETag, and still a 304 for an edge that has it.
      const after = await pull();
      expect(after.status).to.equal(200);
      expect(after.headers.etag).to.equal(before.headers.etag);
      expect(after.headers['x-berth-version']).to.equal(String(good.version.id));
      expect((await pull().set('If-None-Match', before.headers.etag!)).status).to.equal(304);

      // Publishing the same broken registry again stores nothing new.
      const same = await publishEdgeConfig(cmd, { reason: 'again' });
      expect(same.changed).to.equal(false);
      expect(same.version.id).to.equal(bad.version.id);

      // The admin puts the certificate in place; "Publish now" (recheck) proves the same text again and serves it.
      // (The domain names the one file as certificate and key: nginx reads both from a PEM holding both.)
      fs.mkdirSync(path.dirname(missing));
      fs.writeFileSync(missing, fs.readFileSync(certificate, 'utf8') + fs.readFileSync(key, 'utf8'));
      const recheck = await publishEdgeConfig(cmd, { reason: 'certificate installed, checked again', recheck: true });
      expect(recheck.changed).to.equal(true);
      expect(recheck.version.status, recheck.checkOutput ?? '').to.equal('published');
      expect((await pull()).headers['x-berth-version']).to.equal(String(recheck.version.id));
      // Rechecking a text that is already published stores nothing.
      expect((await publishEdgeConfig(cmd, { reason: 'again', recheck: true })).changed).to.equal(false);
    } finally {
      await service.destroy();
      await domain.destroy();
    }
    const fixed = await publishEdgeConfig(cmd, { reason: `service ${service.id} removed` });
    expect(fixed.version.status).to.equal('published');
    expect(fixed.version.sha256).to.equal(good.version.sha256);
    expect((await pull()).headers['x-berth-version']).to.equal(String(fixed.version.id));
  });
});
