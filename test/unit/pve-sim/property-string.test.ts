// The simulator's own property-string reader and writer (tools/pve-sim/property-string.ts), checked
// against the team's Proxmox notes (../shared/proxmox/README.md, beside the checkout) and pve-common's
// parse_property_string, not against the client.
import { expect } from 'chai';
import { formatPropertyString, MalformedPropertyString, parsePropertyString } from '../../../tools/pve-sim/property-string.js';

/** The node's message for `text`, or null when it parses. */
function refusal(text: string, format?: Parameters<typeof parsePropertyString>[1]): string | null {
  try {
    parsePropertyString(text, format);
    return null;
  } catch (e) {
    expect(e).to.be.instanceOf(MalformedPropertyString);
    return (e as Error).message;
  }
}

describe('pve-sim property strings', () => {
  const net = new Set(['name', 'bridge', 'hwaddr', 'ip', 'gw', 'type', 'firewall']);
  const netFormat = { isKey: (k: string) => net.has(k) };

  it('splits `key=value` parts, keeping any further `=` in the value and skipping blank parts', () => {
    expect(parsePropertyString('name=eth0,bridge=vmbr0,ip=dhcp')).to.deep.equal({ name: 'eth0', bridge: 'vmbr0', ip: 'dhcp' });
    expect(parsePropertyString('name=eth0,, ,ip=10.0.0.5/24,')).to.deep.equal({ name: 'eth0', ip: '10.0.0.5/24' });
    expect(parsePropertyString('order=scsi0;net0,extra=a=b')).to.deep.equal({ order: 'scsi0;net0', extra: 'a=b' });
  });

  it('stores a part without `key=` under the default key (`local-lvm:8` for rootfs)', () => {
    expect(parsePropertyString('local-lvm:8,size=8G', { defaultKey: 'volume' })).to.deep.equal({ volume: 'local-lvm:8', size: '8G' });
    expect(parsePropertyString('size=8G,local-lvm:8', { defaultKey: 'volume' })).to.deep.equal({ size: '8G', volume: 'local-lvm:8' });
    // The node asks whether the default key is set with Perl truth, where "0" is false: it is overwritten.
    expect(parsePropertyString('volume=0,local-lvm:8', { defaultKey: 'volume' })).to.deep.equal({ volume: 'local-lvm:8' });
  });

  it('refuses what a node refuses, with its messages', () => {
    expect(refusal('name=eth0,name=eth1')).to.equal('duplicate key in comma-separated list property: name\n');
    expect(refusal('local:8,other:4', { defaultKey: 'volume' })).to.equal('duplicate key in comma-separated list property: volume\n');
    expect(refusal('volume=local:8,other:4', { defaultKey: 'volume' })).to.equal('duplicate key in comma-separated list property: volume\n');
    expect(refusal('local:8,volume=other:4', { defaultKey: 'volume' })).to.equal('duplicate key in comma-separated list property: volume\n');
    expect(refusal('eth0,ip=dhcp')).to.equal('value without key, but schema does not define a default key\n');
    expect(refusal('name=')).to.equal('missing key in comma-separated list property\n');
    expect(refusal('=eth0')).to.equal('missing key in comma-separated list property\n');
  });

  it('refuses a key the format does not define in the same pass, before a later duplicate', () => {
    expect(refusal('name=eth0,colour=red', netFormat)).to.equal('invalid key in comma-separated list property: colour\n');
    expect(refusal('colour=red,colour=blue', netFormat)).to.equal('invalid key in comma-separated list property: colour\n');
    expect(refusal('name=eth0,name=eth1', netFormat)).to.equal('duplicate key in comma-separated list property: name\n');
    expect(refusal('name=eth0,firewall=1', netFormat)).to.equal(null);
  });

  it('reads a value as Perl `(.+)$` does: one trailing line break is dropped, one inside refuses the part', () => {
    expect(parsePropertyString('name=eth0\n')).to.deep.equal({ name: 'eth0' });
    expect(refusal('name=eth0\nip=dhcp')).to.equal('missing key in comma-separated list property\n');
  });

  it('treats `constructor` and `__proto__` as ordinary keys', () => {
    const parsed = parsePropertyString('constructor=1,__proto__=2');
    expect(Object.hasOwn(parsed, 'constructor') && Object.hasOwn(parsed, '__proto__')).to.equal(true);
    expect(parsed.constructor).to.equal('1');
    expect(refusal('constructor=1,constructor=2')).to.equal('duplicate key in comma-separated list property: constructor\n');
  });

  it('writes a container NIC as a node stores it: name first, then the other keys alphabetically', () => {
    const stored = formatPropertyString({ type: 'veth', ip: 'dhcp', hwaddr: 'BC:24:11:5E:7D:2A', bridge: 'vmbr0', name: 'eth0' }, { first: ['name'] });
    expect(stored).to.equal('name=eth0,bridge=vmbr0,hwaddr=BC:24:11:5E:7D:2A,ip=dhcp,type=veth');
  });

  it('writes the default key bare and first, leaves undefined values out, and round-trips', () => {
    const values = { size: '8G', volume: 'local-lvm:vm-101-disk-0', quota: undefined };
    const stored = formatPropertyString(values, { defaultKey: 'volume' });
    expect(stored).to.equal('local-lvm:vm-101-disk-0,size=8G');
    expect(parsePropertyString(stored, { defaultKey: 'volume' })).to.deep.equal({ volume: 'local-lvm:vm-101-disk-0', size: '8G' });
  });

  it('refuses to write a value holding a comma, which could not be read back', () => {
    expect(() => formatPropertyString({ name: 'eth0', trunks: '1,2' })).to.throw('illegal value with commas for trunks');
  });
});
