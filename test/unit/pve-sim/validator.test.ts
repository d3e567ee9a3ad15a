import { expect } from 'chai';
import { checkNamedFormat } from '../../../tools/pve-sim/formats.js';
import { loadSchema, type ParamsSchema } from '../../../tools/pve-sim/schema.js';
import { compilePattern, validateParams } from '../../../tools/pve-sim/validator.js';

const schema = loadSchema();
const params = (path: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE'): ParamsSchema => schema.paths[path].info[method]!.parameters;
const create = params('/nodes/{node}/lxc', 'POST');
const ok = { node: 'pve1', vmid: '101', ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst' };

describe('pve-sim parameter validation (schema-driven)', () => {
  it('accepts a valid create', () => {
    expect(validateParams(create, { ...ok, net0: 'name=eth0,bridge=vmbr0,ip=dhcp', rootfs: 'local-lvm:8', start: '1', tags: 'a;b' })).to.deep.equal({});
  });

  it('reports missing required properties', () => {
    expect(validateParams(create, { node: 'pve1' })).to.deep.equal({
      ostemplate: 'property is missing and it is not optional',
      vmid: 'property is missing and it is not optional',
    });
  });

  it('type-checks integers and form booleans (only 1/0; JSON true is fine)', () => {
    expect(validateParams(create, { ...ok, vmid: 'abc' })).to.deep.equal({ vmid: "type check ('integer') failed - got 'abc'" });
    expect(validateParams(create, { ...ok, start: 'true' })).to.deep.equal({ start: "type check ('boolean') failed - got 'true'" });
    expect(validateParams(create, { ...ok, start: true })).to.deep.equal({});
  });

  it('checks format before range, as PVE does (vmid 50 fails the pve-vmid format)', () => {
    expect(validateParams(create, { ...ok, vmid: '50' })).to.deep.equal({ vmid: 'invalid format - value does not look like a valid VM ID\n' });
    expect(validateParams(create, { ...ok, memory: '8' })).to.deep.equal({ memory: 'value must have a minimum value of 16' });
    expect(validateParams(create, { ...ok, cores: '9000' })).to.deep.equal({ cores: 'value must have a maximum value of 8192' });
  });

  it('checks enums, lengths and patterns', () => {
    expect(validateParams(create, { ...ok, arch: 'sparc' })).to.deep.equal({
      arch: "value 'sparc' does not have a value in the enumeration 'amd64, i386, arm64, armhf, riscv32, riscv64'",
    });
    expect(validateParams(create, { ...ok, password: 'abc' })).to.deep.equal({ password: 'value must be at least 5 characters long' });
    expect(validateParams(create, { ...ok, hostname: 'bad_host' })).to.deep.equal({ hostname: 'invalid format - value does not look like a valid DNS name\n' });
    expect(validateParams(create, { ...ok, hostname: 'a'.repeat(256) })).to.deep.equal({ hostname: 'value may only be 255 characters long' });
    expect(validateParams(create, { ...ok, ostemplate: 'x'.repeat(256) })).to.deep.equal({ ostemplate: 'value may only be 255 characters long' });
    expect(validateParams(create, { ...ok, entrypoint: 'a\x01b' })).to.deep.equal({ entrypoint: 'value does not match the regex pattern' });
  });

  it('rejects unknown parameters and out-of-range indexed ones', () => {
    const msg = 'property is not defined in schema and the schema does not allow additional properties';
    expect(validateParams(create, { ...ok, bogus: '1' })).to.deep.equal({ bogus: msg });
    expect(validateParams(create, { ...ok, net32: 'name=eth0' })).to.deep.equal({ net32: msg });
    expect(validateParams(create, { ...ok, net31: 'name=eth1' })).to.deep.equal({});
  });

  it('validates property strings such as net0 through their format object', () => {
    expect(validateParams(create, { ...ok, net0: 'bridge=vmbr0' })).to.deep.equal({
      net0: 'invalid format - format error\nnet0.name: property is missing and it is not optional\n',
    });
    expect(validateParams(create, { ...ok, net0: 'name=eth0,colour=red' })).to.deep.equal({
      net0: 'invalid format - invalid key in comma-separated list property: colour\n',
    });
    // The node refuses an unknown key as it reads it, before it could see the key twice.
    expect(validateParams(create, { ...ok, net0: 'name=eth0,colour=red,colour=blue' })).to.deep.equal({
      net0: 'invalid format - invalid key in comma-separated list property: colour\n',
    });
    expect(validateParams(create, { ...ok, net0: 'name=eth0,hwaddr=01:00:00:00:00:01' })).to.deep.equal({
      net0: 'invalid format - format error\nnet0.hwaddr: invalid format - value does not look like a valid unicast MAC address\n\n',
    });
    expect(validateParams(create, { ...ok, net0: 'name=eth0,tag=5000,firewall=yes' })).to.deep.equal({
      net0: 'invalid format - format error\nnet0.tag: value must have a maximum value of 4094\n',
    });
    expect(validateParams(create, { ...ok, rootfs: 'local-lvm:8,size=8G,quota=1' })).to.deep.equal({});
  });

  it('enforces `requires` between parameters', () => {
    const ticket = params('/access/ticket', 'POST');
    expect(validateParams(ticket, { username: 'root@pam', password: 'x', path: '/vms' })).to.deep.equal({
      privs: "missing property - 'path' requires this property",
    });
  });

  it('turns a repeated key into an array that fails a scalar type', () => {
    expect(validateParams(params('/cluster/resources', 'GET'), { type: ['vm', 'node'] })).to.deep.equal({ type: "type check ('string') failed - got ARRAY" });
  });

  it('knows the named formats of the subset', () => {
    expect(checkNamedFormat('pve-node', 'pve1')).to.equal(null);
    expect(checkNamedFormat('pve-node', 'bad_node')).to.equal('value does not look like a valid node name\n');
    expect(checkNamedFormat('pve-storage-content-list', 'vztmpl,rootdir')).to.equal(null);
    expect(checkNamedFormat('pve-storage-content-list', 'vztmpl,bogus')).to.equal("invalid content type 'bogus'\n");
    expect(checkNamedFormat('pve-tag-list', 'prod;web')).to.equal(null);
    expect(checkNamedFormat('pve-ipv4-config', '10.0.0.5/24')).to.equal(null);
    expect(checkNamedFormat('pve-ipv4-config', '10.0.0.5')).to.equal('value does not look like a valid ipv4 network configuration\n');
  });

  it('compiles every pattern in the schema file (Perl syntax translated)', () => {
    const found: string[] = [];
    (function walk(o: unknown) {
      if (!o || typeof o !== 'object') return;
      const rec = o as Record<string, unknown>;
      if (typeof rec.pattern === 'string') found.push(rec.pattern);
      Object.values(rec).forEach(walk);
    })(schema);
    expect(found.length).to.be.greaterThan(10);
    for (const p of found) expect(() => compilePattern(p), p).not.to.throw();
    expect(compilePattern('(?^:\\d+(?:;\\d+)*)').test('1;2;3')).to.equal(true);
    expect(compilePattern('[-_.\\w\\d]+').test('vmbr0 x')).to.equal(false);
  });
});
