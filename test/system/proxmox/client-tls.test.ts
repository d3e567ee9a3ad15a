// Per-node TLS policy against the simulator over HTTPS with certificates generated at test time
// by the openssl CLI: a trusted CA passes, an unknown CA fails clearly, fingerprint pinning works,
// and verify:false stays local to one client (nothing process-wide).
import { expect } from 'chai';
import { createProxmoxClient, ProxmoxTlsError, type ProxmoxClient } from '../../../src/lib/proxmox/index.js';
import { ADMIN_TOKEN, startSim, type StartedSim } from '../../support/pve-sim.js';
import { makeCertificates, type TestCertificates } from '../../support/tls.js';

describe('proxmox client TLS verification', () => {
  let s: StartedSim;
  let own: TestCertificates;
  let stranger: TestCertificates;
  const clients: ProxmoxClient[] = [];
  const client = (tls: Parameters<typeof createProxmoxClient>[0]['tls']) => {
    const c = createProxmoxClient({ baseUrl: s.url, auth: ADMIN_TOKEN, timeoutMs: 5000, tls });
    clients.push(c);
    return c;
  };

  before(async () => {
    [own, stranger] = await Promise.all([makeCertificates(), makeCertificates('Some Other CA')]);
  });
  after(async () => {
    await Promise.all([own.cleanup(), stranger.cleanup()]);
  });
  beforeEach(async () => { s = await startSim({ https: own }); });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await s.close();
  });

  it('serves HTTPS on 127.0.0.1', () => {
    expect(s.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('connects when the node CA is trusted', async () => {
    const nodes = await client({ verify: true, ca: s.certs!.caCert }).cluster.nodes();
    expect(nodes.map((n) => n.node)).to.deep.equal(['pve1', 'pve2']);
  });

  it('fails with ProxmoxTlsError when the certificate is signed by an unknown CA', async () => {
    const err = await client({ verify: true, ca: stranger.caCert }).cluster.nodes().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxTlsError);
    expect((err as ProxmoxTlsError).kind).to.equal('tls');
    expect((err as Error).message).to.match(/^TLS verification of https:\/\/127\.0\.0\.1:\d+ failed \(.*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify)/);
    expect((err as Error).message).to.include("configure the node's CA certificate or its SHA-256 fingerprint");
    expect(s.sim.requests).to.have.length(0);
  });

  it('fails with the system trust store, since the simulator CA is private', async () => {
    const err = await client({ verify: true }).cluster.version().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxTlsError);
  });

  it('accepts the certificate by pinned fingerprint (colons and case optional)', async () => {
    const fp = s.certs!.fingerprint256.replace(/:/g, '').toLowerCase();
    expect((await client({ fingerprint: fp }).cluster.version()).version).to.equal('9.1.3');
  });

  it('rejects a certificate whose fingerprint does not match the pin', async () => {
    const err = await client({ fingerprint: stranger.fingerprint256 }).cluster.version().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxTlsError);
    expect((err as Error).message).to.include('does not match the pinned');
  });

  it('rejects a malformed fingerprint at construction', () => {
    expect(() => client({ fingerprint: 'AB:CD' })).to.throw(TypeError, 'SHA-256');
  });

  it('verify:false trusts this node only, leaving other clients and the process strict', async () => {
    expect((await client({ verify: false }).cluster.version()).release).to.equal('9.1');
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).to.equal(undefined);
    const strict = await client({ verify: true }).cluster.version().catch((e: unknown) => e);
    expect(strict).to.be.instanceOf(ProxmoxTlsError);
  });
});
