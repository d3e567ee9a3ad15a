import { expect } from 'chai';
import { formatPropertyString, macFromNet, parsePropertyString, PropertyStringError, staticIpv4FromNet } from '../../../src/lib/proxmox/property-string.js';

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

  it('treats keys named like Object.prototype members as ordinary keys (found by the simulator\'s own parser)', () => {
    const parsed = parsePropertyString('constructor=1,toString=2,__proto__=3');
    expect(Object.keys(parsed)).to.deep.equal(['constructor', 'toString', '__proto__']);
    expect(parsed.__proto__).to.equal('3');
    expect(Object.getPrototypeOf(parsed)).to.equal(Object.prototype);
  });

  it('does not let a value run across a line break, and drops one trailing newline, as PVE does', () => {
    expect(() => parsePropertyString('name=eth0\nbridge=vmbr0')).to.throw(PropertyStringError, 'missing key in comma-separated list property');
    expect(parsePropertyString('name=eth0\n')).to.deep.equal({ name: 'eth0' });
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

  it('reads a container NIC\'s static IPv4 without its prefix length, and none for DHCP', () => {
    expect(staticIpv4FromNet('name=eth0,bridge=vmbr0,ip=10.20.0.12/24,gw=10.20.0.1')).to.equal('10.20.0.12');
    expect(staticIpv4FromNet('ip=192.168.1.5/16,name=eth0')).to.equal('192.168.1.5');
    expect(staticIpv4FromNet('name=eth0,bridge=vmbr0,ip=dhcp')).to.equal(null);
    expect(staticIpv4FromNet(undefined)).to.equal(null);
  });
});
