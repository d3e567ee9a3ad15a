import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { initModels } from '../../../models/index.js';
import { Auditor } from '../../../src/audit/index.js';
import { openDatabase, type Db } from '../../../src/database.js';
import { projectRoot } from '../../../src/lib/paths.js';
import { Vault } from '../../../src/lib/vault.js';
import { SECRET_PURPOSE, SSH_KEY_PURPOSE } from '../../../src/services/credentials.js';
import { BATCH_SIZE, rotateKeys } from '../../../src/services/rotate-key.js';
import { testCommand } from '../../support/command.js';
import { testConfig, testContext } from '../../support/context.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/databases.js';

const newKey = () => crypto.randomBytes(32).toString('base64');
const hex = () => crypto.randomBytes(4).toString('hex');

/**
 * Key rotation re-seals every row of two tables, so it runs on a database of its own: on the run's
 * shared database it would re-seal other test files' rows under a key their app does not have.
 */
describe('vault key rotation (src/services/rotate-key.ts, bin/rotate-key)', function () {
  this.timeout(90_000);
  let scratch: ScratchDatabase;
  let db: Db;
  const keyA = newKey();
  const keyB = newKey();
  const vaultA = Vault.fromConfig({ ENCRYPTION_KEY: keyA });
  /** B is current, A may still open: the state during a rotation. */
  const vaultBA = Vault.fromConfig({ ENCRYPTION_KEY: keyB, ENCRYPTION_OLD_KEYS: keyA });
  const vaultB = Vault.fromConfig({ ENCRYPTION_KEY: keyB });

  before(async () => {
    scratch = await createScratchDatabase();
    db = await openDatabase(testConfig(scratch.url));
  });
  after(async () => {
    // Sequelize models are global: point them back at the run's database before closing this one.
    initModels(testContext().db.sequelize);
    await db?.close();
    await scratch?.drop();
  });
  beforeEach(async () => {
    // The one place a test empties tables: this file's own database, which holds no other test's rows.
    // Rotation re-seals every row, so each test starts from none (a new database per test costs seconds).
    const m = db.models;
    await m.Credential.destroy({ where: {} });
    await m.VirtualMachine.destroy({ where: {} });
    await m.Container.destroy({ where: {} });
    await m.Node.destroy({ where: {} });
  });

  /** The CLI's command context on this file's database, with `vault`. */
  const onScratch = (vault: Vault) => testCommand({ models: db.models, sequelize: db.sequelize, vault, auditor: new Auditor(db.models, null) });

  async function seed(vault: Vault, options: { credentials: number; withKey?: number; nodes?: number }) {
    const m = db.models;
    const ct = await m.Container.create({ hostname: `ct-${hex()}.example.org` } as never);
    const vm = await m.VirtualMachine.create({ name: `vm-${hex()}.example.org` } as never);
    const plain = new Map<string, string>();
    const rows = Array.from({ length: options.credentials }, (_, i) => {
      const password = `pw-${i}-${hex()}`;
      const sshKey = i < (options.withKey ?? 0) ? `-----BEGIN OPENSSH PRIVATE KEY-----\n${hex()}\n-----END OPENSSH PRIVATE KEY-----\n` : null;
      plain.set(`${i}`, password);
      return {
        containerId: i % 2 ? null : ct.id,
        virtualMachineId: i % 2 ? vm.id : null,
        label: `c${i}`,
        username: 'root',
        secret: vault.seal(password, SECRET_PURPOSE),
        sshKey: sshKey ? vault.seal(sshKey, SSH_KEY_PURPOSE) : null,
        keyId: vault.keyId,
        createdBy: null,
      };
    });
    await m.Credential.bulkCreate(rows);
    for (let i = 0; i < (options.nodes ?? 0); i++) {
      await m.Node.create({ name: `pve-${hex()}`, apiUrl: 'https://127.0.0.1:8006', apiTokenId: 'root@pam!berth', apiTokenSecret: vault.seal(`tok-${i}`, 'node-token') });
    }
    await m.Node.create({ name: `pve-${hex()}`, apiUrl: 'https://127.0.0.1:8006', apiTokenId: null, apiTokenSecret: null });
    return plain;
  }

  it('re-seals credentials (secret and SSH key) and node tokens from A to B; afterwards B alone opens everything', async () => {
    const m = db.models;
    const plain = await seed(vaultA, { credentials: 3, withKey: 1, nodes: 2 });
    const check = await rotateKeys(onScratch(vaultBA), { check: true });
    expect(check).to.deep.equal({ keyId: vaultB.keyId, credentials: 3, nodeTokens: 2, unreadable: [] });
    expect(await m.Credential.count({ where: { keyId: vaultA.keyId } }), '--check writes nothing').to.equal(3);

    const result = await rotateKeys(onScratch(vaultBA));
    expect(result).to.deep.equal({ keyId: vaultB.keyId, credentials: 3, nodeTokens: 2, unreadable: [] });
    const credentials = await m.Credential.findAll({ order: [['label', 'ASC']] });
    for (const c of credentials) {
      expect(c.keyId).to.equal(vaultB.keyId);
      expect(vaultB.open(c.secret, SECRET_PURPOSE)).to.equal(plain.get(c.label.slice(1)));
      if (c.sshKey) expect(vaultB.open(c.sshKey, SSH_KEY_PURPOSE)).to.match(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    }
    expect(credentials.filter((c) => c.sshKey)).to.have.length(1);
    const tokens = (await m.Node.findAll({ order: [['id', 'ASC']] })).map((n) => n.apiTokenSecret);
    expect(tokens.map((t) => (t ? vaultB.open(t, 'node-token') : null))).to.deep.equal(['tok-0', 'tok-1', null]);

    const event = (await m.AuditEvent.findAll({ where: { action: 'vault.rotate' } })).at(-1)!;
    expect(event).to.include({ actor: null, objectType: 'vault', objectId: vaultB.keyId });
    expect(JSON.parse(event.changes!)).to.deep.equal({ credentials: { after: 3 }, nodeTokens: { after: 2 }, leftOnOldKeys: { after: 0 } });
    // Running it again finds nothing to do.
    expect(await rotateKeys(onScratch(vaultBA), { check: true })).to.include({ credentials: 0, nodeTokens: 0 });
  });

  it(`works through more than one batch of ${BATCH_SIZE}`, async () => {
    await seed(vaultA, { credentials: BATCH_SIZE * 2 + 17 });
    const result = await rotateKeys(onScratch(vaultBA));
    expect(result.credentials).to.equal(BATCH_SIZE * 2 + 17);
    expect(await db.models.Credential.count({ where: { keyId: vaultB.keyId } })).to.equal(BATCH_SIZE * 2 + 17);
  });

  it('reports, and leaves untouched, values sealed with a key that is not configured or that are damaged', async () => {
    const m = db.models;
    const vaultC = Vault.fromConfig({ ENCRYPTION_KEY: newKey() });
    await seed(vaultA, { credentials: 2 });
    await seed(vaultC, { credentials: 1, nodes: 1 });
    const damaged = await m.Credential.findOne({ where: { keyId: vaultA.keyId } });
    const broken = damaged!.secret.replace(/:([A-Za-z0-9_-])([A-Za-z0-9_-]*)$/, (_all, c: string, rest: string) => `:${c === 'A' ? 'B' : 'A'}${rest}`);
    await damaged!.update({ secret: broken });
    const unknownBefore = (await m.Credential.findOne({ where: { keyId: vaultC.keyId } }))!.secret;

    const result = await rotateKeys(onScratch(vaultBA));
    expect(result).to.include({ credentials: 1, nodeTokens: 0 });
    expect(result.unreadable.map((u) => [u.table, u.keyId])).to.have.deep.members([
      ['Credentials', vaultA.keyId],
      ['Credentials', vaultC.keyId],
      ['Nodes', vaultC.keyId],
    ]);
    expect(result.unreadable.find((u) => u.keyId === vaultC.keyId)!.reason).to.contain('not configured');
    expect((await m.Credential.findOne({ where: { keyId: vaultC.keyId } }))!.secret).to.equal(unknownBefore);
    expect((await m.Credential.findByPk(damaged!.id))!.secret).to.equal(broken);
  });

  describe('bin/rotate-key', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rotate-'));
    after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const run = (args: string[], keys: { current: string; old?: string }) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const env: Record<string, string> = { PATH: process.env.PATH ?? '', DATABASE_URL: scratch.url, SESSION_SECRET: 'cli-test-secret-0123456789abcdefghijkl', DATA_DIR: dataDir, ENCRYPTION_KEY: keys.current, LOG_LEVEL: 'silent' };
        if (keys.old) env.ENCRYPTION_OLD_KEYS = keys.old;
        execFile('bin/rotate-key', args, { cwd: projectRoot, env }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
      });

    it('--check exits 1 while values are on an old key; a run re-encrypts them and exits 0; --check then exits 0', async () => {
      await seed(vaultA, { credentials: 2, nodes: 1 });
      const check = await run(['--check'], { current: keyB, old: keyA });
      expect(check, check.stderr).to.include({ code: 1 });
      expect(check.stdout).to.contain(`would re-encrypt 2 credentials and 1 node token to key ${vaultB.keyId}`);
      const rotated = await run([], { current: keyB, old: keyA });
      expect(rotated, rotated.stderr).to.include({ code: 0 });
      expect(rotated.stdout.trim()).to.equal(`re-encrypted 2 credentials and 1 node token to key ${vaultB.keyId}; 0 left on old keys`);
      const after = await run(['--check'], { current: keyB });
      expect(after, after.stderr).to.include({ code: 0 });
      expect(after.stdout).to.contain('nothing to do');
      expect((await db.models.AuditEvent.findAll({ where: { action: 'vault.rotate' } })).length).to.be.greaterThan(0);
    });

    it('exits 1 naming the missing key when a value cannot be opened, and refuses a malformed key', async () => {
      await seed(vaultA, { credentials: 1 });
      const missing = await run([], { current: keyB });
      expect(missing.code).to.equal(1);
      expect(missing.stdout).to.contain('re-encrypted 0 credentials and 0 node tokens').and.contain('1 left on old keys');
      expect(missing.stderr).to.contain(`key ${vaultA.keyId}`).and.contain('ENCRYPTION_OLD_KEYS');
      const malformed = await run(['--check'], { current: 'not-a-key' });
      expect(malformed.code).to.equal(1);
      expect(malformed.stderr).to.contain('openssl rand -base64 32');
    });
  });
});
