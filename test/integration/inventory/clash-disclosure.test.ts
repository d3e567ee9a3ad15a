// A clash on a unique value (IP, MAC, VMID) tells a user that the value is taken, and names the
// record in the way only when the user may see it (owner or admin): otherwise creating records or
// dry-running a CSV would map other users' addresses to their host names.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createContainer, createNode, createVm, uniqueVmid } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';

describe('inventory: unique-value clashes do not disclose other users\' records', function () {
  this.timeout(30_000);
  const fixture = useApp();
  const hex = () => crypto.randomBytes(3).toString('hex');

  async function agentFor(role: 'user' | 'admin' = 'user') {
    const built = await createUser({ role, username: `${role === 'admin' ? 'adm' : 'bob'}-${hex()}` });
    const agent = request.agent(fixture.app);
    await login(agent, built.user.username, built.password);
    return { agent, user: built.user, csrf: await csrfToken(agent, '/') };
  }
  /** Alice's records: a container and a VM on one node, with addresses in one /24. */
  async function alicesRecords() {
    const alice = (await createUser({ username: `alice-${hex()}` })).user;
    const node = await createNode();
    const net = `10.${crypto.randomInt(0, 255)}.${crypto.randomInt(0, 255)}`;
    const cts = [];
    for (let i = 1; i <= 4; i++) cts.push(await createContainer({ username: alice.username, hostname: `alice-ct${i}-${hex()}.example.org`, ipv4Address: `${net}.${i}`, nodeId: node.id, vmid: uniqueVmid() }));
    const vm = await createVm({ username: alice.username, name: `alice-vm-${hex()}.example.org`, ipv4Address: `${net}.9` });
    return { alice, node, net, cts, vm };
  }
  const leaks = (text: string, a: Awaited<ReturnType<typeof alicesRecords>>) =>
    [a.alice.username, ...a.cts.map((c) => c.hostname), a.vm.name].filter((s) => text.includes(s));

  it('a user creating or editing with another user\'s IP, MAC or VMID gets 409 saying the value is taken, without naming it', async () => {
    const a = await alicesRecords();
    const bob = await agentFor();
    const [ct] = a.cts;
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ ipv4Address: ct.ipv4Address }, 'ipv4Address', `The IP address ${ct.ipv4Address} is already taken.`],
      [{ macAddress: a.vm.macAddress }, 'macAddress', `The MAC address ${a.vm.macAddress} is already taken.`],
      [{ nodeId: a.node.id, containerId: ct.vmid }, 'containerId', `VMID ${ct.vmid} on that node is already taken.`],
    ];
    for (const [body, field, message] of cases) {
      const hostname = `bob-${hex()}.example.org`;
      const json = await bob.agent.post('/containers').set('X-CSRF-Token', bob.csrf).send({ hostname, ...body }).expect(409);
      expect(json.body.fields[field]).to.equal(message);
      expect(leaks(JSON.stringify(json.body), a), field).to.deep.equal([]);
      const form = await bob.agent.post('/containers').type('form').send({ _csrf: bob.csrf, hostname, ...body }).expect(409);
      expect(form.text).to.contain(message.split(' ').slice(-3).join(' '));
      expect(leaks(form.text, a), field).to.deep.equal([]);
    }
    const own = await createContainer({ username: bob.user.username });
    const edit = await bob.agent.put(`/containers/${own.id}`).set('X-CSRF-Token', bob.csrf).send({ ipv4Address: a.vm.ipv4Address }).expect(409);
    expect(edit.body.fields.ipv4Address).to.equal(`The IP address ${a.vm.ipv4Address} is already taken.`);
    expect(leaks(JSON.stringify(edit.body), a)).to.deep.equal([]);
  });

  it('names the record in the way for its owner and for an admin', async () => {
    const a = await alicesRecords();
    const admin = await agentFor('admin');
    const res = await admin.agent.post('/containers').set('X-CSRF-Token', admin.csrf).send({ hostname: `adm-${hex()}.example.org`, ipv4Address: a.cts[0].ipv4Address }).expect(409);
    expect(res.body.fields.ipv4Address).to.equal(`${a.cts[0].hostname} (container) already has the IP address ${a.cts[0].ipv4Address}.`);

    const bob = await agentFor();
    const mine = await createVm({ username: bob.user.username });
    const clash = await bob.agent.post('/containers').set('X-CSRF-Token', bob.csrf).send({ hostname: `bob-${hex()}.example.org`, macAddress: mine.macAddress }).expect(409);
    expect(clash.body.fields.macAddress).to.equal(`${mine.name} (VM) already has the MAC address ${mine.macAddress}.`);
  });

  it('a CSV dry run (and apply) over a range of another user\'s IPs reveals no host names; an admin\'s names them', async () => {
    const a = await alicesRecords();
    const bob = await agentFor();
    const ips = [...a.cts.map((c) => c.ipv4Address!), a.vm.ipv4Address!];
    const csv = `hostname,ipv4\n${ips.map((ip) => `probe-${hex()}.example.org,${ip}`).join('\n')}\n`;
    const upload = await bob.agent.post('/containers/import').set('Accept', 'application/json').set('X-CSRF-Token', bob.csrf).send({ csv, filename: 'probe.csv' }).expect(201);
    expect(upload.body.plan.totals.error).to.equal(ips.length);
    expect(upload.body.plan.rows.map((r: { errors: string[] }) => r.errors)).to.deep.equal(ips.map((ip) => [`ipv4: The IP address ${ip} is already taken.`]));
    expect(leaks(JSON.stringify(upload.body), a)).to.deep.equal([]);
    const preview = await bob.agent.get(`/containers/import/${upload.body.id}`).expect(200);
    expect(preview.text).to.contain(`The IP address ${ips[0]} is already taken.`);
    expect(leaks(preview.text, a)).to.deep.equal([]);
    const apply = await bob.agent.post(`/containers/import/${upload.body.id}/apply`).set('Accept', 'application/json').set('X-CSRF-Token', bob.csrf).send({}).expect(422);
    expect(leaks(JSON.stringify(apply.body), a)).to.deep.equal([]);

    const admin = await agentFor('admin');
    const adminUpload = await admin.agent.post('/containers/import').set('Accept', 'application/json').set('X-CSRF-Token', admin.csrf).send({ csv, filename: 'probe.csv' }).expect(201);
    expect(adminUpload.body.plan.rows[0].errors).to.deep.equal([`ipv4: ${a.cts[0].hostname} (container) already has the IP address ${ips[0]}.`]);
    expect(await testContext().db.models.Container.count({ where: { username: bob.user.username } })).to.equal(0);
  });
});
