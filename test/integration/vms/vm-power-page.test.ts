// A VM's Stop and Shut down from its page and the API (src/routes/vms-lifecycle.ts): an admin's
// request enqueues its job with a job.enqueue audit event; the VM's owner is refused (403: Berth
// never creates VMs, so a record's node and VMID are what someone typed), another user gets 404;
// the VM's state, another job on it, CSRF and anonymous visitors are refused; the page shows the
// buttons only to admins and only where they apply. The jobs are cancelled at the end, so no
// runner of a later test file picks them up (the tasks themselves are tested against the simulator
// by test/integration/expiry/actions.test.ts).
import { expect } from 'chai';
import request from 'supertest';
import type { VirtualMachine } from '../../../models/index.js';
import { VM_POWER_TASKS } from '../../../src/provisioning/vm-power-tasks.js';
import { createVm, uniqueVmid } from '../../factories/inventory.js';
import { createJob } from '../../factories/jobs.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { signedInAgent, type SignedInAgent } from '../../support/login.js';

const models = () => testContext().db.models;

const api = (a: SignedInAgent, path: string) => a.agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', a.csrf);
const form = (a: SignedInAgent, path: string) => a.agent.post(path).type('form').send({ _csrf: a.csrf });

/** A VM of `owner` that Berth can reach on Proxmox (node and VMID), running unless told. */
const vmOf = (owner: string, status: VirtualMachine['status'] = 'running') => createVm({ username: owner, vmid: uniqueVmid(), status });

const jobsOn = (vm: VirtualMachine) => models().Job.findAll({ where: { subjectType: 'vm', subjectId: vm.id }, order: [['id', 'ASC']] });

describe('VM power from its page (stop, shut down)', function () {
  this.timeout(30_000);
  const fixture = useApp();
  const touched: number[] = [];

  after(async () => {
    // Nothing this file enqueued may run in a later file's runner over the shared database.
    if (touched.length) await models().Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: { subjectType: 'vm', subjectId: touched, status: ['pending', 'running'] } });
  });

  const pastTense = { stop: 'stopped', shutdown: 'shut down' } as const;

  for (const action of ['stop', 'shutdown'] as const) {
    it(`${action}: an admin's request enqueues ${VM_POWER_TASKS[action]} as theirs, audited job.enqueue, on another user's VM too; API 202 {jobId, statusUrl}, browsers 303 to the status page`, async () => {
      const admin = await signedInAgent(fixture.app, { admin: true });
      const owner = await signedInAgent(fixture.app);
      const vm = await vmOf(owner.user.username);
      touched.push(vm.id);

      const res = await api(admin, `/vms/${vm.id}/${action}`).expect(202);
      expect(res.body).to.deep.equal({ jobId: res.body.jobId, statusUrl: `/status/${res.body.jobId}` });
      expect(res.headers.location).to.equal(`/status/${res.body.jobId}`);
      const job = await models().Job.findByPk(res.body.jobId);
      expect(job).to.include({ task: VM_POWER_TASKS[action], status: 'pending', createdBy: admin.user.username, subjectType: 'vm', subjectId: vm.id });
      expect(JSON.parse(job!.params!)).to.deep.equal({ vmId: vm.id, name: vm.name });
      const events = await models().AuditEvent.findAll({ where: { action: 'job.enqueue', actor: admin.user.username } });
      expect(events.map((e) => e.objectId)).to.include(String(job!.id));

      // A paused VM (the admin's own) can be asked too, from the page's form: to the job's status page.
      const paused = await vmOf(admin.user.username, 'paused');
      touched.push(paused.id);
      const page = await form(admin, `/vms/${paused.id}/${action}`).expect(303);
      const [made] = await jobsOn(paused);
      expect(made).to.include({ task: VM_POWER_TASKS[action], createdBy: admin.user.username });
      expect(page.headers.location).to.equal(`/status/${made.id}`);
    });

    it(`${action}: refuses the VM's owner (403, Berth did not create it: JSON {error} for the API, the error page for browsers, whatever its state), no job`, async () => {
      const owner = await signedInAgent(fixture.app);
      const vm = await vmOf(owner.user.username);
      const stopped = await vmOf(owner.user.username, 'stopped');
      const unplaced = await createVm({ username: owner.user.username, status: 'running' });
      touched.push(vm.id, stopped.id, unplaced.id);
      const message = (name: string) => `Berth did not create ${name}, so only an administrator can have it ${pastTense[action]} on Proxmox.`;

      const refused = await api(owner, `/vms/${vm.id}/${action}`).expect(403);
      expect(refused.body.error).to.equal(message(vm.name));
      const page = await form(owner, `/vms/${vm.id}/${action}`).expect(403);
      expect(page.headers['content-type']).to.match(/^text\/html/);
      expect(page.text).to.contain(message(vm.name));
      // Nothing about the VM's state is said before the refusal.
      for (const other of [stopped, unplaced]) expect((await api(owner, `/vms/${other.id}/${action}`).expect(403)).body.error).to.equal(message(other.name));
      for (const other of [vm, stopped, unplaced]) expect(await jobsOn(other)).to.have.length(0);
    });
  }

  it('answers 404 to a user who is neither the owner nor an admin, before the admin-only refusal (nothing enqueued)', async () => {
    const owner = await signedInAgent(fixture.app);
    const other = await signedInAgent(fixture.app);
    const vm = await vmOf(owner.user.username);
    touched.push(vm.id);

    for (const action of ['stop', 'shutdown']) {
      expect((await api(other, `/vms/${vm.id}/${action}`).expect(404)).body.error).to.equal('No such VM.');
      await form(other, `/vms/${vm.id}/${action}`).expect(404);
    }
    await api(other, '/vms/999999999/stop').expect(404);
    expect(await jobsOn(vm)).to.have.length(0);
  });

  it('refuses a stopped VM and one with no node or VMID: 409 for the API, a message on the VM page for browsers, no job', async () => {
    const a = await signedInAgent(fixture.app, { admin: true });
    const stopped = await vmOf(a.user.username, 'stopped');
    touched.push(stopped.id);

    const refused = await api(a, `/vms/${stopped.id}/stop`).expect(409);
    expect(refused.body.error).to.equal(`${stopped.name} is stopped: only a running or paused VM can be stopped.`);
    const refusedShutdown = await api(a, `/vms/${stopped.id}/shutdown`).expect(409);
    expect(refusedShutdown.body.error).to.equal(`${stopped.name} is stopped: only a running or paused VM can be shut down.`);
    const back = await form(a, `/vms/${stopped.id}/shutdown`).expect(303);
    expect(back.headers.location).to.equal(`/vms/${stopped.id}`);
    const page = await a.agent.get(`/vms/${stopped.id}`).expect(200);
    expect(page.text).to.contain('only a running or paused VM can be shut down.');
    expect(await jobsOn(stopped)).to.have.length(0);

    const unplaced = await createVm({ username: a.user.username, status: 'running' });
    touched.push(unplaced.id);
    const nowhere = await api(a, `/vms/${unplaced.id}/stop`).expect(409);
    expect(nowhere.body.error).to.contain('no node or VMID');
    expect(await jobsOn(unplaced)).to.have.length(0);
  });

  it('refuses a VM another job works on (409 naming the job), then a second request while the first is pending', async () => {
    const a = await signedInAgent(fixture.app, { admin: true });
    const vm = await vmOf(a.user.username);
    touched.push(vm.id);
    const busy = await createJob({ subjectType: 'vm', subjectId: vm.id, status: 'running', createdBy: a.user.username });

    const refused = await api(a, `/vms/${vm.id}/stop`).expect(409);
    expect(refused.body.error).to.contain(`${vm.name} is busy: job ${busy.id}`);
    const back = await form(a, `/vms/${vm.id}/shutdown`).expect(303);
    expect(back.headers.location).to.equal(`/vms/${vm.id}`);
    expect((await a.agent.get(`/vms/${vm.id}`).expect(200)).text).to.contain(`is busy: job ${busy.id}`);
    expect((await jobsOn(vm)).map((j) => j.id)).to.deep.equal([busy.id]);

    await busy.update({ status: 'success', finishedAt: new Date() });
    const first = await api(a, `/vms/${vm.id}/shutdown`).expect(202);
    const second = await api(a, `/vms/${vm.id}/stop`).expect(409);
    expect(second.body.error).to.contain(`job ${first.body.jobId} (vm.shutdown) is pending`);
  });

  it('refuses a request without the CSRF token (403) and an anonymous one (401, JSON for the API, the error page for browsers)', async () => {
    const a = await signedInAgent(fixture.app, { admin: true });
    const vm = await vmOf(a.user.username);
    touched.push(vm.id);

    await a.agent.post(`/vms/${vm.id}/stop`).set('Accept', 'application/json').expect(403);
    await a.agent.post(`/vms/${vm.id}/shutdown`).type('form').send({}).expect(403);
    await a.agent.post(`/vms/${vm.id}/stop`).type('form').send({ _csrf: 'not-the-token' }).expect(403);

    const anonymous = request.agent(fixture.app);
    // Without a session's token the CSRF check answers first.
    await anonymous.post(`/vms/${vm.id}/stop`).set('Accept', 'application/json').expect(403);
    const page = await anonymous.get('/login').expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    // A browser's form gets the error page (only a GET is sent on to the login form).
    const refused = await anonymous.post(`/vms/${vm.id}/stop`).set('Accept', 'text/html').type('form').send({ _csrf: csrf }).expect(401);
    expect(refused.headers['content-type']).to.match(/^text\/html/);
    const json = await anonymous.post(`/vms/${vm.id}/shutdown`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(401);
    expect(json.body.error).to.be.a('string');
    expect(await jobsOn(vm)).to.have.length(0);
  });

  it('shows an admin Shut down and Stop on a running or paused VM (anyone\'s), each with its busy text and a confirmation, and neither for a stopped VM or one Berth cannot place', async () => {
    const owner = await signedInAgent(fixture.app);
    const admin = await signedInAgent(fixture.app, { admin: true });
    const running = await vmOf(owner.user.username);
    const paused = await vmOf(admin.user.username, 'paused');
    const stopped = await vmOf(owner.user.username, 'stopped');
    const unplaced = await createVm({ username: owner.user.username, status: 'running' });

    for (const vm of [running, paused]) {
      const html = (await admin.agent.get(`/vms/${vm.id}`).expect(200)).text;
      const stopForm = new RegExp(`<form method="post" action="/vms/${vm.id}/stop"[^>]*>`).exec(html)?.[0];
      const shutdownForm = new RegExp(`<form method="post" action="/vms/${vm.id}/shutdown"[^>]*>`).exec(html)?.[0];
      expect(stopForm, 'the Stop form').to.be.a('string');
      expect(stopForm).to.contain('data-busy="Stopping…"').and.contain(`data-confirm="Stop ${vm.name} at once? Unsaved work inside it is lost."`);
      expect(shutdownForm, 'the Shut down form').to.be.a('string');
      expect(shutdownForm).to.contain('data-busy="Shutting down…"');
      expect(html).to.contain('>Stop (hard)</button>').and.contain('>Shut down</button>');
      expect(html).to.not.contain('only an administrator can stop or shut it down');
    }

    const stoppedPage = (await admin.agent.get(`/vms/${stopped.id}`).expect(200)).text;
    expect(stoppedPage).to.not.contain(`action="/vms/${stopped.id}/stop"`).and.not.contain(`action="/vms/${stopped.id}/shutdown"`);
    expect(stoppedPage).to.contain('Nothing can be done while the VM is stopped.');
    const unplacedPage = (await admin.agent.get(`/vms/${unplaced.id}`).expect(200)).text;
    expect(unplacedPage).to.not.contain(`action="/vms/${unplaced.id}/stop"`);
    expect(unplacedPage).to.contain('no node or VMID');
  });

  it('shows the owner only a sentence that an administrator can stop or shut the VM down: no buttons, whatever its state', async () => {
    const owner = await signedInAgent(fixture.app);
    const running = await vmOf(owner.user.username);
    const stopped = await vmOf(owner.user.username, 'stopped');
    const unplaced = await createVm({ username: owner.user.username, status: 'running' });

    for (const vm of [running, stopped, unplaced]) {
      const html = (await owner.agent.get(`/vms/${vm.id}`).expect(200)).text;
      const panel = /<section class="panel" id="lifecycle">[\s\S]*?<\/section>/.exec(html)?.[0];
      expect(panel, 'the Power panel').to.be.a('string');
      expect(panel).to.contain('Berth did not create this VM, so only an administrator can stop or shut it down.');
      expect(panel).to.not.contain('<form').and.not.contain('<button');
      expect(html).to.not.contain(`action="/vms/${vm.id}/stop"`).and.not.contain(`action="/vms/${vm.id}/shutdown"`);
      expect(panel).to.not.contain('Nothing can be done').and.not.contain('no node or VMID');
    }
  });
});
