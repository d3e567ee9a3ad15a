import { expect } from 'chai';
import {
  errorFromResponse, ProxmoxAuthError, ProxmoxError, ProxmoxPermissionError,
} from '../../../src/lib/proxmox/errors.js';
import { coerceNumbers, requireNumber, toNumber } from '../../../src/lib/proxmox/numbers.js';

describe('proxmox numbers sent as strings', () => {
  it('accepts numbers and numeric strings, nothing else', () => {
    expect(toNumber(101)).to.equal(101);
    expect(toNumber('101')).to.equal(101);
    expect(toNumber('0.25')).to.equal(0.25);
    expect(toNumber('')).to.equal(undefined);
    expect(toNumber('abc')).to.equal(undefined);
    expect(toNumber(null)).to.equal(undefined);
  });

  it('coerces only the listed keys and leaves other values alone', () => {
    expect(coerceNumbers({ vmid: '100', memory: '2048', name: '007' }, ['vmid', 'memory'])).to.deep.equal({ vmid: 100, memory: 2048, name: '007' });
  });

  it('requireNumber throws on a non-numeric value', () => {
    expect(requireNumber('103', 'nextid')).to.equal(103);
    expect(() => requireNumber('x', 'nextid')).to.throw(TypeError, 'nextid');
  });
});

describe('proxmox error mapping', () => {
  const where = { method: 'POST', path: '/nodes/pve/lxc' };

  it('uses the body message and keeps status and reason', () => {
    const e = errorFromResponse(500, "CT 101 already exists on node 'pve'", { message: "CT 101 already exists on node 'pve'\n" }, where);
    expect(e).to.be.instanceOf(ProxmoxError);
    expect(e.kind).to.equal('http');
    expect(e.status).to.equal(500);
    expect(e.message).to.equal("CT 101 already exists on node 'pve'");
    expect(e.code).to.equal('already-exists');
    expect(e.path).to.equal('/nodes/pve/lxc');
  });

  it('falls back to the reason phrase for servers that send only {"data":null}', () => {
    const e = errorFromResponse(500, 'CT is locked (create)', { data: null } as never, where);
    expect(e.message).to.equal('CT is locked (create)');
    expect(e.code).to.equal('locked');
  });

  it('lists parameter errors of a 400', () => {
    const e = errorFromResponse(400, 'Parameter verification failed.', {
      message: 'Parameter verification failed.\n', errors: { vmid: "type check ('integer') failed - got 'abc'" },
    }, where);
    expect(e.errors).to.deep.equal({ vmid: "type check ('integer') failed - got 'abc'" });
    expect(e.message).to.equal("Parameter verification failed: vmid: type check ('integer') failed - got 'abc'");
    expect(e.code).to.equal('invalid-parameter');
  });

  it('maps 401 and 403 to their own classes', () => {
    expect(errorFromResponse(401, 'Authentication failed!', undefined, where)).to.be.instanceOf(ProxmoxAuthError);
    const p = errorFromResponse(403, 'Permission check failed (/vms/100, VM.Audit)', { message: 'Permission check failed (/vms/100, VM.Audit)\n' }, where);
    expect(p).to.be.instanceOf(ProxmoxPermissionError);
    expect(p.kind).to.equal('permission');
  });
});
