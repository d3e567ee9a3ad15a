import { expect } from 'chai';
import { attributeName, containerKind, publicName, toPublicNames, vmKind } from '../../../src/inventory/kinds.js';
import { createSchema, updateSchema } from '../../../src/inventory/schema.js';

describe('inventory: the VMID is `vmid` in code and keeps its public name', () => {
  it("reads a container's `containerId` (forms, JSON) into the `vmid` attribute, a VM's `vmid` as is", () => {
    expect(createSchema(containerKind).parse({ hostname: 'web01.example.org', containerId: '101' })).to.include({ vmid: 101 }).and.not.have.property('containerId');
    expect(updateSchema(containerKind).parse({ containerId: '' })).to.deep.equal({ vmid: null });
    expect(updateSchema(containerKind).parse({ purpose: 'x' })).to.deep.equal({ purpose: 'x' });
    expect(createSchema(vmKind).parse({ name: 'win01.example.org', vmid: 200 })).to.include({ vmid: 200 });
  });

  it('reports a bad container VMID under `containerId`, the key the client sent', () => {
    const r = updateSchema(containerKind).safeParse({ containerId: 99 });
    expect(r.success).to.equal(false);
    expect(r.error!.issues[0].path).to.deep.equal(['containerId']);
  });

  it('maps names both ways, for containers only', () => {
    expect([attributeName(containerKind, 'containerId'), publicName(containerKind, 'vmid')]).to.deep.equal(['vmid', 'containerId']);
    expect([attributeName(vmKind, 'vmid'), publicName(vmKind, 'vmid')]).to.deep.equal(['vmid', 'vmid']);
    expect(toPublicNames(containerKind, { vmid: 5, hostname: 'h' })).to.deep.equal({ containerId: 5, hostname: 'h' });
  });
});
