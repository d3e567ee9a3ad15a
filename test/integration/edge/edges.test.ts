// POST /edges/report: what bin/berth-edge-pull says it did with a version, stored on the Edge row
// (created on first sight) and audited as edge.report; the same access rule as GET /nginx.conf.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createApiToken } from '../../../src/services/apiTokens.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';

const models = () => testContext().db.models;

async function tokenFor(scope: 'write' | 'edge', admin: boolean) {
  const { user } = admin ? await createAdminUser() : await createUser();
  const { token } = await createApiToken(testCommand({ actor: { username: user.username } }), { userId: user.id, name: `report-${scope}`, scope });
  return { token, user };
}

const edgeName = () => `edge-${crypto.randomBytes(4).toString('hex')}`;
const goodReport = (edge: string) => ({ edge, version: 7, sha256: crypto.randomBytes(32).toString('hex'), result: 'applied', output: 'nginx: configuration file /etc/nginx/nginx.conf test is successful\n' });

describe('POST /edges/report', function () {
  this.timeout(30_000);
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none' });
  let edge: Awaited<ReturnType<typeof tokenFor>>;

  before(async () => {
    edge = await tokenFor('edge', true);
  });

  const report = () => request(fixture.app).post('/edges/report').set('Authorization', `Bearer ${edge.token}`);

  it('stores a JSON report on a new Edge row (204) and audits it as edge.report by the token owner', async () => {
    const body = goodReport(edgeName());
    const res = await report().send(body);
    expect(res.status).to.equal(204);
    const row = await models().Edge.findOne({ where: { name: body.edge } });
    expect(row).to.not.equal(null);
    expect(row!.lastReportVersionId).to.equal(7);
    expect(row!.lastReportSha256).to.equal(body.sha256);
    expect(row!.lastResult).to.equal('applied');
    expect(row!.lastOutput).to.equal(body.output);
    expect(row!.lastReportAt).to.be.instanceOf(Date);
    const event = await models().AuditEvent.findOne({ where: { action: 'edge.report', objectLabel: body.edge } });
    expect(event?.actor).to.equal(edge.user.username);
  });

  it('takes a form (what curl sends) and updates the row an earlier pull or report made', async () => {
    const name = edgeName();
    await report().send(goodReport(name));
    const sha256 = crypto.randomBytes(32).toString('hex');
    const output = 'nginx: [emerg] unknown directive "bogus" in /etc/nginx/nginx.conf.staging:12\nnginx: configuration file /etc/nginx/nginx.conf.staging test failed\n';
    const res = await report().type('form').send({ edge: name, version: '8', sha256, result: 'rejected', output });
    expect(res.status).to.equal(204);
    const rows = await models().Edge.findAll({ where: { name } });
    expect(rows).to.have.length(1);
    expect(rows[0]!.lastReportVersionId).to.equal(8);
    expect(rows[0]!.lastResult).to.equal('rejected');
    expect(rows[0]!.lastOutput).to.equal(output);
  });

  it('keeps what the edge runs apart from its last report: a rejected report leaves the applied version alone', async () => {
    const name = edgeName();
    const applied = goodReport(name);
    expect((await report().send(applied)).status).to.equal(204);
    const first = await models().Edge.findOne({ where: { name } });
    expect(first!.appliedVersionId).to.equal(7);
    expect(first!.appliedSha256).to.equal(applied.sha256);
    expect(first!.appliedAt!.getTime()).to.equal(first!.lastReportAt!.getTime());

    const refused = { edge: name, version: 9, sha256: crypto.randomBytes(32).toString('hex'), result: 'rejected', output: 'nginx: [emerg] no\n' };
    expect((await report().send(refused)).status).to.equal(204);
    const row = await models().Edge.findOne({ where: { name } });
    expect(row!.lastResult).to.equal('rejected');
    expect(row!.lastReportVersionId).to.equal(9);
    expect(row!.lastReportSha256).to.equal(refused.sha256);
    expect(row!.lastOutput).to.equal(refused.output);
    expect(row!.appliedVersionId).to.equal(7);
    expect(row!.appliedSha256).to.equal(applied.sha256);
    expect(row!.appliedAt!.getTime()).to.equal(first!.appliedAt!.getTime());

    // The events say what changed: the first one what it applied, the refusal only the report.
    const events = await models().AuditEvent.findAll({ where: { action: 'edge.report', objectLabel: name }, order: [['id', 'ASC']] });
    expect(events).to.have.length(2);
    const changes = events.map((e) => JSON.parse(e.changes ?? '{}') as Record<string, { before?: unknown; after?: unknown }>);
    expect(changes[0]).to.deep.include({ appliedVersionId: { after: 7 }, appliedSha256: { after: applied.sha256 } });
    expect(changes[1]).to.deep.include({ lastResult: { before: 'applied', after: 'rejected' }, lastReportVersionId: { before: 7, after: 9 } });
    expect(changes[1]).to.not.have.property('appliedVersionId');
  });

  it('accepts an empty output and keeps a very long one within the column, cut at a character', async () => {
    const name = edgeName();
    expect((await report().send({ ...goodReport(name), output: '' })).status).to.equal(204);
    // Two-byte characters around the cut, so a cut inside one would show as a broken character.
    const long = 'x'.repeat(15_980) + 'é'.repeat(20) + 'y'.repeat(49_536);
    expect((await report().send({ ...goodReport(name), output: long })).status).to.equal(204);
    const row = await models().Edge.findOne({ where: { name } });
    expect(Buffer.byteLength(row!.lastOutput!, 'utf8')).to.be.at.most(16_000);
    expect(row!.lastOutput).to.match(/^x{15980}é+\n\[output cut\]$/);
  });

  it('refuses bad fields with 422 and the field names, and writes nothing', async () => {
    const name = edgeName();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...goodReport(name), edge: 'bad name;' }, 'edge'],
      [{ ...goodReport(name), version: 'x' }, 'version'],
      [{ ...goodReport(name), version: 0 }, 'version'],
      [{ ...goodReport(name), sha256: 'abc' }, 'sha256'],
      [{ ...goodReport(name), sha256: 'A'.repeat(64) }, 'sha256'],
      [{ ...goodReport(name), result: 'maybe' }, 'result'],
      [{ ...goodReport(name), output: 'x'.repeat(65_537) }, 'output'],
      [{ edge: name }, 'sha256'],
    ];
    for (const [body, field] of cases) {
      const res = await report().send(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).to.equal(422);
      expect(res.body.fields, field).to.have.property(field);
    }
    expect(await models().Edge.count({ where: { name } })).to.equal(0);
  });

  it('refuses no credentials (401), a write token (403) and an edge token of a non-admin (403)', async () => {
    const body = goodReport(edgeName());
    expect((await request(fixture.app).post('/edges/report').send(body)).status).to.be.oneOf([401, 403]);
    const write = await tokenFor('write', true);
    expect((await request(fixture.app).post('/edges/report').set('Authorization', `Bearer ${write.token}`).send(body)).status).to.equal(403);
    const userEdge = await tokenFor('edge', false);
    expect((await request(fixture.app).post('/edges/report').set('Authorization', `Bearer ${userEdge.token}`).send(body)).status).to.equal(403);
    expect(await models().Edge.count({ where: { name: body.edge } })).to.equal(0);
  });
});

describe('POST /edges/report from an allow-listed address', function () {
  this.timeout(30_000);
  // supertest connects over loopback.
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none', EDGE_ALLOW_ADDRESSES: '127.0.0.0/8,::1' });

  it('is stored without a token when it names its edge in X-Berth-Edge (a header no cross-site form can send), audited with no actor', async () => {
    const body = goodReport(edgeName());
    const res = await request(fixture.app).post('/edges/report').set('X-Berth-Edge', body.edge).type('form').send(body);
    expect(res.status, res.text).to.equal(204);
    expect((await models().Edge.findOne({ where: { name: body.edge } }))?.lastReportSha256).to.equal(body.sha256);
    const event = await models().AuditEvent.findOne({ where: { action: 'edge.report', objectLabel: body.edge } });
    expect(event?.actor).to.equal(null);
  });

  it('is refused without X-Berth-Edge (what a forged cross-site form would send)', async () => {
    const body = goodReport(edgeName());
    const res = await request(fixture.app).post('/edges/report').type('form').send(body);
    expect(res.status).to.equal(403);
    expect(await models().Edge.count({ where: { name: body.edge } })).to.equal(0);
  });
});
