import { expect } from 'chai';
import { formatUpid, parseUpid, UPID_RE } from '../../../src/lib/proxmox/upid.js';

describe('proxmox UPID', () => {
  const example = 'UPID:pve:0002A1F3:01B2C3D4:66F1A2B3:vzcreate:101:root@pam:';

  it('parses the documented example into its fields', () => {
    expect(parseUpid(example)).to.deep.equal({
      node: 'pve', pid: 0x2a1f3, pstart: 0x1b2c3d4, starttime: 0x66f1a2b3, type: 'vzcreate', id: '101', user: 'root@pam',
    });
  });

  it('formats upper-case, zero-padded hex with the trailing colon and round-trips', () => {
    const upid = formatUpid({ node: 'pve1', pid: 42, pstart: 0xabc, starttime: 1700000000, type: 'vzstart', id: '100', user: 'root@pam!berth' });
    expect(upid).to.equal('UPID:pve1:0000002A:00000ABC:6553F100:vzstart:100:root@pam!berth:');
    expect(upid).to.match(UPID_RE);
    expect(formatUpid(parseUpid(upid)!)).to.equal(upid);
  });

  it('accepts an empty id and a 9-digit pstart', () => {
    const p = parseUpid('UPID:pve:0002A1F3:1B2C3D4E5:66F1A2B3:aptupdate::root@pam:');
    expect(p?.id).to.equal('');
    expect(p?.pstart).to.equal(0x1b2c3d4e5);
  });

  it('rejects malformed ids', () => {
    for (const bad of ['', 'UPID:pve:1:2:3:vzcreate:101:root@pam:', example.slice(0, -1), example.replace('pve', '-pve'), 'nonsense']) {
      expect(parseUpid(bad), bad).to.equal(null);
    }
  });
});
