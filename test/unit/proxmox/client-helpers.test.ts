import { expect } from 'chai';
import { formatNet } from '../../../src/lib/proxmox/containers.js';
import { normalizeInterfaces, primaryIpv4 } from '../../../src/lib/proxmox/interfaces.js';
import { isTaskSuccess } from '../../../src/lib/proxmox/tasks.js';
import { normalizeFingerprint } from '../../../src/lib/proxmox/tls.js';
import { encodeParams } from '../../../src/lib/proxmox/transport.js';

describe('proxmox client helpers', () => {
  it('encodes parameters as Proxmox expects: 1/0 booleans, repeated keys, no null/undefined', () => {
    const sp = encodeParams({ start: true, force: false, tags: ['a', 'b'], memory: 512, pool: undefined, x: null, keys: 'ssh-ed25519 A\nssh-rsa B' });
    expect(sp.toString()).to.equal('start=1&force=0&tags=a&tags=b&memory=512&keys=ssh-ed25519+A%0Assh-rsa+B');
  });

  it('formats a NetSpec with eth0/vmbr0 defaults and name first', () => {
    expect(formatNet({ ip: '10.0.0.5/24', gw: '10.0.0.1', firewall: true })).to.equal('name=eth0,bridge=vmbr0,firewall=1,gw=10.0.0.1,ip=10.0.0.5/24');
    expect(formatNet('name=eth1,bridge=vmbr1')).to.equal('name=eth1,bridge=vmbr1');
  });

  it('reads LXC and guest-agent interfaces into one shape and picks the primary IPv4', () => {
    const lxc = normalizeInterfaces([
      { name: 'lo', hwaddr: '00:00:00:00:00:00', inet: '127.0.0.1/8', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'inet' }] },
      { name: 'eth0', hwaddr: 'bc:24:11:5e:7d:2a', inet: '10.0.0.5/24', inet6: 'fe80::1/64' },
    ]);
    expect(lxc[1]).to.deep.equal({ name: 'eth0', hwaddr: 'bc:24:11:5e:7d:2a', ipv4: ['10.0.0.5'], ipv6: ['fe80::1'] });
    expect(primaryIpv4(lxc, 'BC:24:11:5E:7D:2A')).to.equal('10.0.0.5');
    const agent = normalizeInterfaces([
      { name: 'ens18', 'hardware-address': 'BC:24:11:AA:BB:CC', 'ip-addresses': [{ 'ip-address': '169.254.1.1', 'ip-address-type': 'ipv4' }] },
      { name: 'ens19', 'hardware-address': 'bc:24:11:aa:bb:cd', 'ip-addresses': [{ 'ip-address': '10.0.0.7', 'ip-address-type': 'ipv4' }] },
    ]);
    expect(primaryIpv4(agent)).to.equal('10.0.0.7');
    expect(primaryIpv4(normalizeInterfaces([{ name: 'eth0', hwaddr: 'bc:24:11:00:00:01' }]))).to.equal(null);
    expect(normalizeInterfaces(null)).to.deep.equal([]);
  });

  it('normalises SHA-256 fingerprints and rejects anything else', () => {
    const hex = 'ab'.repeat(32);
    expect(normalizeFingerprint(hex)).to.equal(Array(32).fill('AB').join(':'));
    expect(normalizeFingerprint(Array(32).fill('ab').join(':'))).to.equal(Array(32).fill('AB').join(':'));
    expect(() => normalizeFingerprint('AB:CD')).to.throw(TypeError);
  });

  it('counts OK and WARNINGS as task success, anything else as failure', () => {
    expect([isTaskSuccess('OK'), isTaskSuccess('WARNINGS: 2'), isTaskSuccess('unable to create CT 101 - x'), isTaskSuccess(undefined)])
      .to.deep.equal([true, true, false, false]);
  });
});
