// The factories in test/factories/ create the parents a record needs, so a test names only what it
// is about.
import { expect } from 'chai';
import { createCredential } from '../factories/credentials.js';
import { createContainer, createVm, uniqueVmid } from '../factories/inventory.js';
import { createJob } from '../factories/jobs.js';
import { createUser } from '../factories/users.js';
import { testContext } from '../support/context.js';

describe('test factories', () => {
  it('put a container or VM given a VMID alone on a new Node, and leave one without a VMID off any node', async () => {
    const { Node } = testContext().db.models;
    const ct = await createContainer({ vmid: uniqueVmid() });
    const vm = await createVm({ vmid: uniqueVmid() });
    expect(ct.nodeId).to.be.a('number');
    expect(await Node.findByPk(ct.nodeId!)).not.to.equal(null);
    expect(vm.nodeId).to.be.a('number').and.not.equal(ct.nodeId);
    expect((await createContainer()).nodeId).to.equal(null);
    expect((await createContainer({ vmid: uniqueVmid(), nodeId: null })).nodeId, 'an explicit null is kept').to.equal(null);
  });

  it('give a credential a new container when it names no record, and seal its password', async () => {
    const { credential, password } = await createCredential();
    expect(credential.virtualMachineId).to.equal(null);
    const ct = await testContext().db.models.Container.findByPk(credential.containerId!);
    expect(ct).not.to.equal(null);
    expect(credential.secret).not.to.contain(password);
  });

  it('keep their defaults for overrides given as undefined (a spread would write NULL over them)', async () => {
    const username: string | undefined = undefined;
    const { user } = await createUser({ username, role: 'admin' });
    expect(user.username).to.match(/^user-/);
    expect(user.role).to.equal('admin');
  });

  it('insert a job as the seed does (pending, no task) unless told otherwise', async () => {
    const job = await createJob({ createdBy: 'someone' });
    expect(job).to.include({ command: 'true', status: 'pending', task: null, createdBy: 'someone' });
  });
});
