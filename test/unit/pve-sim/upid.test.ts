// The simulator's own UPID writer and reader (tools/pve-sim/upid.ts), checked against the format in §3
// of the team's Proxmox notes (../shared/proxmox/README.md, beside the checkout), not against the client.
import { expect } from 'chai';
import { formatUpid, parseUpid } from '../../../tools/pve-sim/upid.js';

describe('pve-sim UPIDs', () => {
  const example = 'UPID:pve:0002A1F3:01B2C3D4:66F1A2B3:vzcreate:101:root@pam:';
  const fields = { node: 'pve', pid: 0x2a1f3, pstart: 0x1b2c3d4, starttime: 0x66f1a2b3, type: 'vzcreate', id: '101', user: 'root@pam' };

  it("writes the README's example from its fields: upper-case hex, 8 digits, trailing colon", () => {
    expect(formatUpid(fields)).to.equal(example);
    expect(formatUpid({ ...fields, pid: 42, pstart: 0xabc, starttime: 1_700_000_000 })).to.equal('UPID:pve:0000002A:00000ABC:6553F100:vzcreate:101:root@pam:');
  });

  it('writes a pstart past 8 hex digits in full, and reads it back', () => {
    const upid = formatUpid({ ...fields, pstart: 0x1b2c3d4e5 });
    expect(upid).to.equal('UPID:pve:0002A1F3:1B2C3D4E5:66F1A2B3:vzcreate:101:root@pam:');
    expect(parseUpid(upid)?.pstart).to.equal(0x1b2c3d4e5);
  });

  it('reads the example into its fields, and lower-case hex too', () => {
    expect(parseUpid(example)).to.deep.equal(fields);
    expect(parseUpid(example.toLowerCase().replace('upid:', 'UPID:'))).to.deep.equal(fields);
  });

  it('reads an empty id and a token caller', () => {
    expect(parseUpid('UPID:pve1:0002A1F3:01B2C3D4:66F1A2B3:aptupdate::root@pam!berth:')).to.deep.include({ id: '', user: 'root@pam!berth' });
  });

  it('refuses what a node would not write', () => {
    const bad = [
      '', 'nonsense', 'UPID:', example.slice(0, -1), `${example}x:`, `x${example}`,
      example.replace('UPID:', 'upid:'),
      example.replace(':pve:', ':-pve:'), example.replace(':pve:', ':pve_1:'), example.replace(':pve:', '::'),
      example.replace('0002A1F3', '2A1F3'), example.replace('0002A1F3', '00002A1F3'), example.replace('0002A1F3', '0002A1G3'),
      example.replace('01B2C3D4', '1B2C3D4'), example.replace('66F1A2B3', '066F1A2B3'),
      example.replace('vzcreate', ''), example.replace('vzcreate', 'vz create'), example.replace('vzcreate', 'vz/create'),
      example.replace(':101:', ':1 01:'), example.replace('root@pam', ''), example.replace('root@pam', 'root@pam/x'),
    ];
    for (const text of bad) expect(parseUpid(text), text).to.equal(null);
  });

  it('round-trips', () => {
    const upid = formatUpid({ node: 'node-2', pid: 1, pstart: 0, starttime: 0, type: 'vzstart', id: '999999999', user: 'alice@pve' });
    expect(formatUpid(parseUpid(upid)!)).to.equal(upid);
  });
});
