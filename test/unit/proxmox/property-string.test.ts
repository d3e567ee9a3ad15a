import { expect } from 'chai';
import { formatPropertyString, macFromNet, parsePropertyString, PropertyStringError } from '../../../src/lib/proxmox/property-string.js';

describe('proxmox property strings', () => {
  it('splits key=value pairs and skips empty parts', () => {
    expect(parsePropertyString('name=eth0,bridge=vmbr0,,ip=dhcp')).to.deep.equal({ name: 'eth0', bridge: 'vmbr0', ip: 'dhcp' });
  });

  it('stores a bare value under the default key', () => {
    expect(parsePropertyString('local-lvm:8,size=8G', 'volume')).to.deep.equal({ volume: 'local-lvm:8', size: '8G' });
  });

  it('rejects duplicates, keyless values without a default key, and empty values with PVE messages', () => {
    expect(() => parsePropertyString('a=1,a=2')).to.throw(PropertyStringError, 'duplicate key in comma-separated list property: a');
    expect(() => parsePropertyString('eth0')).to.throw(PropertyStringError, 'value without key, but schema does not define a default key');
    expect(() => parsePropertyString('name=')).to.throw(PropertyStringError, 'missing key in comma-separated list property');
    expect(() => parsePropertyString('x,y', 'volume')).to.throw(PropertyStringError, 'duplicate key in comma-separated list property: volume');
  });

  it('writes the first keys in order and the rest alphabetically, like a stored net0', () => {
    const s = formatPropertyString({ type: 'veth', ip: 'dhcp', hwaddr: 'BC:24:11:5E:7D:2A', bridge: 'vmbr0', name: 'eth0', gw: undefined }, ['name']);
    expect(s).to.equal('name=eth0,bridge=vmbr0,hwaddr=BC:24:11:5E:7D:2A,ip=dhcp,type=veth');
  });

  it('reads the MAC of container and QEMU NICs in upper case', () => {
    expect(macFromNet('name=eth0,bridge=vmbr0,hwaddr=bc:24:11:5e:7d:2a,ip=dhcp,type=veth')).to.equal('BC:24:11:5E:7D:2A');
    expect(macFromNet('virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1')).to.equal('BC:24:11:AA:BB:CC');
    expect(macFromNet('name=eth0,bridge=vmbr0')).to.equal(null);
    expect(macFromNet(undefined)).to.equal(null);
  });
});
