import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { Vault } from '../../../src/lib/vault.js';
import { createCredential } from '../../factories/credentials.js';
import { createContainer, createVm } from '../../factories/inventory.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { signedInAgent } from '../../support/login.js';

const SSH_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n';
const secret = () => `s3cr3t-${crypto.randomBytes(12).toString('hex')}`;

describe('inventory: credential vault', function () {
  this.timeout(30_000);
  const fixture = useApp();
  const models = () => testContext().db.models;

  function agentFor(role: 'user' | 'admin' = 'user') {
    return signedInAgent(fixture.app, { admin: role === 'admin' });
  }

  const events = (objectType: string, objectId: number, action: string) => models().AuditEvent.findAll({ where: { objectType, objectId: String(objectId), action }, order: [['id', 'ASC']] });

  it('adds a credential through the form: sealed at rest, audited with the secret masked, never in the pages or JSON', async () => {
    const { agent, user, csrf } = await agentFor();
    const ct = await createContainer({ username: user.username });
    const password = secret();
    const keyBody = SSH_KEY.split('\n')[1];
    const res = await agent.post(`/containers/${ct.id}/credentials`).type('form').send({ label: 'root login', username: 'root', password, sshKey: SSH_KEY, _csrf: csrf }).expect(303);
    expect(res.headers.location).to.equal(`/containers/${ct.id}`);

    const row = (await models().Credential.findOne({ where: { containerId: ct.id } }))!;
    const vault = Vault.fromConfig(fixture.config);
    expect(row).to.include({ label: 'root login', username: 'root', keyId: vault.keyId, createdBy: user.username, virtualMachineId: null });
    expect(row.secret).to.match(/^v1:/).and.not.contain(password);
    expect(vault.open(row.secret, 'credential-secret')).to.equal(password);
    expect(vault.open(row.sshKey!, 'credential-ssh-key')).to.equal(SSH_KEY);

    const [created] = await events('container', ct.id, 'credential.create');
    expect(created.actor).to.equal(user.username);
    expect(JSON.parse(created.changes!)).to.deep.equal({ label: { after: 'root login' }, username: { after: 'root' }, password: { after: '********' }, sshKey: { after: '********' } });

    for (const path of [`/containers/${ct.id}`, `/containers/${ct.id}/credentials`, '/containers']) {
      const html = await agent.get(path).set('Accept', 'text/html').expect(200);
      const json = await agent.get(path).set('Accept', 'application/json').expect(200);
      for (const body of [html.text, JSON.stringify(json.body)]) expect(body, path).not.to.contain(password).and.not.contain(keyBody);
    }
    const panel = (await agent.get(`/containers/${ct.id}`).set('Accept', 'text/html')).text;
    expect(panel).to.contain('root login').and.contain(`ssh://root@${ct.ipv4Address}`).and.contain(`/containers/${ct.id}/credentials/${row.id}/reveal`);
    const listed = await agent.get(`/containers/${ct.id}/credentials`).set('Accept', 'application/json').expect(200);
    expect(listed.body.credentials).to.have.length(1);
    expect(listed.body.credentials[0]).to.include({ id: row.id, label: 'root login', username: 'root', hasSshKey: true, createdBy: user.username });
  });

  it('re-renders the form with field messages (422) and writes nothing for bad input; JSON gets {error, fields}', async () => {
    const { agent, user, csrf } = await agentFor();
    const vm = await createVm({ username: user.username });
    const page = await agent.post(`/vms/${vm.id}/credentials`).type('form').send({ label: '<b>admin</b>', username: 'administrator', password: '', sshKey: 'not a key', _csrf: csrf }).expect(422);
    expect(page.text).to.contain('Enter the password.').and.contain('Paste a private key').and.contain('&lt;b&gt;admin&lt;/b&gt;').and.not.contain('<b>admin</b>');
    expect(page.text).not.to.contain('not a key');
    const json = await agent.post(`/vms/${vm.id}/credentials`).set('X-CSRF-Token', csrf).send({ label: 'a\nb', username: 'x'.repeat(200), password: 'p' }).expect(422);
    expect(json.body.fields).to.have.keys('label', 'username');
    expect(await models().Credential.count({ where: { virtualMachineId: vm.id } })).to.equal(0);
    expect(await events('vm', vm.id, 'credential.create')).to.have.length(0);
  });

  it('reveals on a deliberate POST: one audit event with actor and request id first, no-store, JSON and page', async () => {
    const { agent, user, csrf } = await agentFor();
    const vm = await createVm({ username: user.username });
    const password = secret();
    const created = await agent.post(`/vms/${vm.id}/credentials`).set('X-CSRF-Token', csrf).send({ label: 'admin', username: 'Administrator', password }).expect(201);
    const requestId = `reveal-${crypto.randomBytes(6).toString('hex')}`;
    const res = await agent.post(`/vms/${vm.id}/credentials/${created.body.id}/reveal`).set('X-CSRF-Token', csrf).set('X-Request-Id', requestId).set('Accept', 'application/json').expect(200);
    expect(res.body).to.deep.equal({ username: 'Administrator', password, sshKey: null });
    expect(res.headers['cache-control']).to.equal('no-store');
    const revealed = await events('vm', vm.id, 'credential.reveal');
    expect(revealed).to.have.length(1);
    expect(revealed[0]).to.include({ actor: user.username, requestId, objectLabel: vm.name });
    expect(revealed[0].changes).not.to.contain(password);

    const page = await agent.post(`/vms/${vm.id}/credentials/${created.body.id}/reveal`).type('form').send({ _csrf: csrf }).expect(200);
    expect(page.headers['cache-control']).to.equal('no-store');
    expect(page.text).to.match(new RegExp(`<input id="revealed-password" value="${password}" readonly`)).and.contain('/js/credential-reveal.js');
    expect(await events('vm', vm.id, 'credential.reveal')).to.have.length(2);
    // A GET cannot reveal, and neither can a POST without the CSRF token.
    await agent.get(`/vms/${vm.id}/credentials/${created.body.id}/reveal`).set('Accept', 'application/json').expect(405);
    await agent.post(`/vms/${vm.id}/credentials/${created.body.id}/reveal`).set('Accept', 'application/json').expect(403);
    expect(await events('vm', vm.id, 'credential.reveal')).to.have.length(2);
  });

  it("answers 404 to another user, and for a credential of another record; admins may reveal anyone's", async () => {
    const owner = await agentFor();
    const other = await agentFor();
    const admin = await agentFor('admin');
    const ct = await createContainer({ username: owner.user.username });
    const elsewhere = await createContainer({ username: owner.user.username });
    const { credential, password } = await createCredential({ containerId: ct.id });
    const path = `/containers/${ct.id}/credentials/${credential.id}`;
    await other.agent.post(`${path}/reveal`).set('X-CSRF-Token', other.csrf).set('Accept', 'application/json').expect(404);
    await other.agent.post(`${path}/delete`).set('X-CSRF-Token', other.csrf).set('Accept', 'application/json').expect(404);
    await other.agent.post(`/containers/${ct.id}/credentials`).set('X-CSRF-Token', other.csrf).send({ label: 'x', username: 'x', password: 'x' }).expect(404);
    await owner.agent.post(`/containers/${elsewhere.id}/credentials/${credential.id}/reveal`).set('X-CSRF-Token', owner.csrf).set('Accept', 'application/json').expect(404);
    await owner.agent.post(`/vms/${ct.id}/credentials/${credential.id}/reveal`).set('X-CSRF-Token', owner.csrf).set('Accept', 'application/json').expect(404);
    await request(fixture.app).post(`${path}/reveal`).set('Accept', 'application/json').expect(403);
    expect(await events('container', ct.id, 'credential.reveal')).to.have.length(0);
    const res = await admin.agent.post(`${path}/reveal`).set('X-CSRF-Token', admin.csrf).set('Accept', 'application/json').expect(200);
    expect(res.body.password).to.equal(password);
    expect((await events('container', ct.id, 'credential.reveal'))[0].actor).to.equal(admin.user.username);
  });

  it('deletes through the form and through DELETE, audited, the history staying on the record', async () => {
    const { agent, csrf, user } = await agentFor();
    const ct = await createContainer({ username: user.username });
    const a = await createCredential({ containerId: ct.id, label: 'a' });
    const b = await createCredential({ containerId: ct.id, label: 'b' });
    const form = await agent.post(`/containers/${ct.id}/credentials/${a.credential.id}/delete`).type('form').send({ _csrf: csrf }).expect(303);
    expect(form.headers.location).to.equal(`/containers/${ct.id}`);
    await agent.delete(`/containers/${ct.id}/credentials/${b.credential.id}`).set('X-CSRF-Token', csrf).set('Accept', 'application/json').expect(200);
    expect(await models().Credential.count({ where: { containerId: ct.id } })).to.equal(0);
    const deleted = await events('container', ct.id, 'credential.delete');
    expect(deleted.map((e) => JSON.parse(e.changes!))).to.deep.equal([
      { label: { before: 'a' }, username: { before: 'root' }, password: { before: '********' } },
      { label: { before: 'b' }, username: { before: 'root' }, password: { before: '********' } },
    ]);
    await agent.delete(`/containers/${ct.id}/credentials/${b.credential.id}`).set('X-CSRF-Token', csrf).set('Accept', 'application/json').expect(404);
  });

  it('keeps every plaintext out of the logs after add, reveal and a failed add', async () => {
    const { agent, user, csrf } = await agentFor();
    const ct = await createContainer({ username: user.username });
    const password = secret();
    const created = await agent.post(`/containers/${ct.id}/credentials`).set('X-CSRF-Token', csrf).send({ label: 'logs', username: 'root', password, sshKey: SSH_KEY }).expect(201);
    await agent.post(`/containers/${ct.id}/credentials/${created.body.id}/reveal`).set('X-CSRF-Token', csrf).set('Accept', 'application/json').expect(200);
    await agent.post(`/containers/${ct.id}/credentials`).set('X-CSRF-Token', csrf).send({ label: '', username: 'root', password, sshKey: 'nope' }).expect(422);
    expect(fixture.logs.length).to.be.greaterThan(3);
    const logged = JSON.stringify(fixture.logs);
    expect(logged).not.to.contain(password);
    expect(logged).not.to.contain(SSH_KEY.split('\n')[1]);
  });

  describe('.rdp download (VMs) and ssh:// links (containers)', () => {
    it('serves address, port and the chosen username, never the password', async () => {
      const { agent, user } = await agentFor();
      const vm = await createVm({ username: user.username, rdpPort: 3390 });
      const first = await createCredential({ virtualMachineId: vm.id, label: 'a-admin', username: 'CORP\\alice' });
      const second = await createCredential({ virtualMachineId: vm.id, label: 'b-ops', username: 'ops' });
      const res = await agent.get(`/vms/${vm.id}/rdp`).expect(200);
      expect(res.headers['content-type']).to.match(/^application\/x-rdp/);
      expect(res.headers['content-disposition']).to.equal(`attachment; filename="${vm.name}.rdp"`);
      const text = res.text ?? String(res.body);
      expect(text).to.contain(`full address:s:${vm.ipv4Address}:3390\r\n`).and.contain('username:s:CORP\\alice\r\n').and.contain('prompt for credentials:i:1');
      expect(text).not.to.contain(first.password).and.not.to.contain(second.password).and.not.to.match(/password/i);
      const chosen = await agent.get(`/vms/${vm.id}/rdp?credential=${second.credential.id}`).expect(200);
      expect(chosen.text ?? String(chosen.body)).to.contain('username:s:ops\r\n').and.not.contain('alice');
    });

    it('falls back to the name, omits the username without credentials, and refuses what it cannot write', async () => {
      const { agent, user } = await agentFor();
      const other = await agentFor();
      const byName = await createVm({ username: user.username, ipv4Address: null });
      const text = (await agent.get(`/vms/${byName.id}/rdp`).expect(200)).text;
      expect(text).to.contain(`full address:s:${byName.name}:3389`).and.not.contain('username:');
      const nowhere = await createVm({ username: user.username, ipv4Address: null, name: 'Not a host name!' });
      const refused = await agent.get(`/vms/${nowhere.id}/rdp`).set('Accept', 'application/json').expect(409);
      expect(refused.body.error).to.contain('neither an IPv4 address nor a valid host name');
      const injected = await createVm({ username: user.username });
      // Only a hand edit of the database can store this (the form refuses it); the file still refuses it.
      await createCredential({ virtualMachineId: injected.id, username: 'bob\r\nalternate shell:s:cmd.exe' });
      const bad = await agent.get(`/vms/${injected.id}/rdp`).set('Accept', 'application/json').expect(409);
      expect(bad.body.error).to.contain('line break');
      await other.agent.get(`/vms/${injected.id}/rdp`).expect(404);
      const ct = await createContainer({ username: user.username });
      await agent.get(`/containers/${ct.id}/rdp`).set('Accept', 'application/json').expect(404);
      await agent.get(`/vms/${injected.id}/rdp?credential=999999999`).set('Accept', 'application/json').expect(404);
    });

    it('links containers with ssh://user@host (user percent-encoded, the hostname when there is no IP)', async () => {
      const { agent, user } = await agentFor();
      const ct = await createContainer({ username: user.username, ipv4Address: null });
      await createCredential({ containerId: ct.id, username: 'deploy@corp' });
      const html = (await agent.get(`/containers/${ct.id}/credentials`).set('Accept', 'text/html').expect(200)).text;
      expect(html).to.contain(`href="ssh://deploy%40corp@${ct.hostname}"`);
      expect(html).not.to.contain('/rdp');
    });
  });
});
