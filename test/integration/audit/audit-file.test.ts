import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../../../src/app.js';
import { Auditor } from '../../../src/audit/index.js';
import { createLogger } from '../../../src/lib/logger.js';
import { createAdminUser } from '../../factories/users.js';
import { testConfig, testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';

/** The JSON lines of every file in `dir` (current and rotated). */
function linesIn(dir: string): Array<Record<string, any>> {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('audit file: one JSON line per committed event, rotated by size', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-audit-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const configFor = (overrides: Record<string, string> = {}) => testConfig(testContext().scratch.url, { AUDIT_LOG_DIR: dir, ...overrides });
  const silent = () => createLogger('silent');

  it('writes a route’s event as one line (actor, action, requestId, changes) once it is committed', async () => {
    const { db } = testContext();
    const built = createApp({ config: configFor(), logger: silent(), sequelize: db.sequelize, models: db.models });
    let stopped = false;
    try {
      const { user: admin, password } = await createAdminUser();
      const agent = request.agent(built.app);
      await login(agent, admin.username, password);
      const csrf = await csrfToken(agent, '/');
      const res = await agent.post('/tokens').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ name: 'file-check', scope: 'read' }).expect(201);
      const requestId = res.headers['x-request-id'];
      stopped = true;
      await built.stop(); // flushes and closes the file

      const mine = linesIn(dir).filter((l) => l.requestId === requestId);
      expect(mine).to.have.length(1);
      expect(mine[0]).to.include({ actor: admin.username, action: 'token.create', objectType: 'token', objectId: String(res.body.id), objectLabel: 'file-check' });
      expect(mine[0].changes).to.deep.include({ name: { after: 'file-check' }, scope: { after: 'read' } });
      expect(JSON.stringify(mine[0]), 'the token itself is never in the trail').not.to.contain(res.body.token);
      const row = await db.models.AuditEvent.findOne({ where: { requestId, action: 'token.create' } });
      expect(Number(row!.id)).to.equal(mine[0].id);
    } finally {
      if (!stopped) await built.stop();
    }
  });

  it('writes nothing, in the file or the table, for an event whose transaction rolled back', async () => {
    const { db } = testContext();
    const auditor = Auditor.fromConfig(configFor(), db.models, silent(), 'rollback.log');
    const label = `rolled-back-${Date.now()}`;
    const failed = await db.sequelize
      .transaction(async (transaction) => {
        await auditor.record({ username: 'tester', requestId: 'req-rollback' }, { action: 'user.update', objectType: 'user', objectId: 1, objectLabel: label }, transaction);
        throw new Error('the change failed after its event was recorded');
      })
      .then(() => null, (err: Error) => err);
    expect(failed?.message).to.equal('the change failed after its event was recorded');
    await db.sequelize.transaction((transaction) =>
      auditor.record({ username: 'tester', requestId: 'req-commit' }, { action: 'user.update', objectType: 'user', objectId: 1, objectLabel: `${label}-kept` }, transaction),
    );
    await auditor.close();

    expect(linesIn(dir).map((l) => l.objectLabel)).to.deep.equal([`${label}-kept`]);
    expect(await db.models.AuditEvent.count({ where: { objectLabel: label } })).to.equal(0);
    expect(await db.models.AuditEvent.count({ where: { objectLabel: `${label}-kept` } })).to.equal(1);
  });

  it('rotates at AUDIT_LOG_MAX_SIZE and keeps at most AUDIT_LOG_MAX_FILES rotated files', async () => {
    const { db } = testContext();
    const maxFiles = 3;
    const auditor = Auditor.fromConfig(configFor({ AUDIT_LOG_MAX_SIZE: '1K', AUDIT_LOG_MAX_FILES: String(maxFiles) }), db.models, silent(), 'audit.log');
    const label = `rotation-${Date.now()}`;
    // ~300 bytes a line, 40 lines: about 12 KiB, a dozen rotations at 1 KiB.
    for (let i = 0; i < 40; i += 1) {
      await auditor.record({ username: 'tester' }, { action: 'user.update', objectType: 'user', objectId: i, objectLabel: `${label}-${i}`, changes: { notes: { before: 'x'.repeat(60), after: 'y'.repeat(60) } } });
      // Rotation is asynchronous: let the stream rotate between lines, as real traffic does.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await auditor.close();

    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log'));
    expect(files.length, `files: ${files.join(', ')}`).to.be.greaterThan(2);
    expect(files.length).to.be.at.most(maxFiles + 1);
    expect(files).to.include('audit.log');
    for (const f of files) expect(fs.statSync(path.join(dir, f)).size, f).to.be.at.most(2048);
    // The newest lines survive; the oldest went with the removed files.
    const kept = linesIn(dir).map((l) => l.objectLabel as string);
    expect(kept).to.include(`${label}-39`);
    expect(kept).not.to.include(`${label}-0`);
    expect(await db.models.AuditEvent.count({ where: { objectLabel: `${label}-0` } }), 'the table keeps everything').to.equal(1);
  });
});
