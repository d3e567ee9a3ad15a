import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createCredential } from '../../factories/credentials.js';
import { createContainer, createNode, createVm } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';

/** Every row of every table, as text (what a `mysqldump` or `.dump` would hold). */
async function dumpDatabase(): Promise<string> {
  const { sequelize } = testContext().db;
  const tables = (await sequelize.getQueryInterface().showAllTables()) as Array<string | { tableName: string }>;
  const names = tables.map((t) => (typeof t === 'string' ? t : t.tableName));
  expect(names).to.include.members(['Credentials', 'Nodes', 'AuditEvents', 'Sessions']);
  const parts: string[] = [];
  for (const name of names) {
    const rows = await sequelize.query(`SELECT * FROM ${sequelize.getQueryInterface().quoteIdentifier(name)}`, { type: QueryTypes.SELECT });
    parts.push(`-- ${name}\n` + JSON.stringify(rows, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('latin1') : v)));
  }
  return parts.join('\n');
}

describe('no plaintext secret at rest', function () {
  this.timeout(30_000);
  const fixture = useApp();

  it('keeps credential passwords, SSH keys and node tokens out of every table (and the SQLite files)', async () => {
    const unique = (what: string) => `${what}-${crypto.randomBytes(16).toString('hex')}`;
    const plaintexts = {
      formPassword: unique('form-password'),
      formKey: unique('formkeybody'),
      jsonPassword: unique('json-password'),
      factoryPassword: unique('factory-password'),
      rejectedPassword: unique('rejected-password'),
      nodeToken: unique('node-token'),
    };
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    const csrf = await csrfToken(agent, '/');
    const ct = await createContainer({ username: user.username });
    const vm = await createVm({ username: user.username });

    // Through the app (form, JSON, a reveal, a rejected form), so sessions, audit rows and flashes are covered too.
    const sshKey = `-----BEGIN OPENSSH PRIVATE KEY-----\n${plaintexts.formKey}\n-----END OPENSSH PRIVATE KEY-----\n`;
    await agent.post(`/containers/${ct.id}/credentials`).type('form').send({ label: 'form', username: 'root', password: plaintexts.formPassword, sshKey, _csrf: csrf }).expect(303);
    const created = await agent.post(`/vms/${vm.id}/credentials`).set('X-CSRF-Token', csrf).send({ label: 'json', username: 'Administrator', password: plaintexts.jsonPassword }).expect(201);
    const revealed = await agent.post(`/vms/${vm.id}/credentials/${created.body.id}/reveal`).set('X-CSRF-Token', csrf).set('Accept', 'application/json').expect(200);
    expect(revealed.body.password).to.equal(plaintexts.jsonPassword);
    await agent.post(`/vms/${vm.id}/credentials`).type('form').send({ label: '', username: 'x', password: plaintexts.rejectedPassword, _csrf: csrf }).expect(422);
    await agent.get(`/containers/${ct.id}`).set('Accept', 'text/html').expect(200);
    const { credential } = await createCredential({ virtualMachineId: vm.id, password: plaintexts.factoryPassword });
    await createNode({ apiTokenId: 'root@pam!berth', apiTokenSecret: plaintexts.nodeToken });

    const dump = await dumpDatabase();
    // The dump does hold the vault rows (sealed), so the checks below look at the right data.
    expect(dump).to.contain(credential.secret).and.contain('credential.reveal');
    for (const [what, secret] of Object.entries(plaintexts)) expect(dump.includes(secret), `${what} in a table`).to.equal(false);

    const { database } = testContext().config;
    if (database.dialect === 'sqlite') {
      const file = String(database.storage);
      const bytes = [file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => ({ f: path.basename(f), data: fs.readFileSync(f) }));
      expect(bytes.length).to.be.greaterThan(0);
      expect(bytes.some(({ data }) => data.includes(Buffer.from(credential.secret))), 'the sealed value is in the files').to.equal(true);
      for (const { f, data } of bytes) {
        for (const [what, secret] of Object.entries(plaintexts)) expect(data.includes(Buffer.from(secret)), `${what} in ${f}`).to.equal(false);
      }
    }
    const audit = fixture.config.AUDIT_LOG_DIR;
    const auditText = fs.existsSync(audit) ? fs.readdirSync(audit).map((f) => fs.readFileSync(path.join(audit, f), 'utf8')).join('') : '';
    for (const [what, secret] of Object.entries(plaintexts)) expect(auditText.includes(secret), `${what} in the audit file`).to.equal(false);
  });
});
