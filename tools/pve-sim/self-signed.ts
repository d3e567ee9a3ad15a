// Certificates for running the simulator over HTTPS: a throw-away CA and a server certificate
// for 127.0.0.1/localhost signed by it, made with the `openssl` CLI (argv arrays, no shell) in a
// temp directory. Like a fresh Proxmox node, the result is untrusted unless the CA is given.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  dir: string;
  /** PEM of the CA that signed the server certificate. */
  caCert: string;
  caCertFile: string;
  /** PEM key and certificate for the server. */
  key: string;
  cert: string;
  /** SHA-256 fingerprint of the server certificate, `AA:BB:...`. */
  fingerprint256: string;
  /** Delete the directory. */
  cleanup(): Promise<void>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Generate a CA and a server certificate (SAN IP:127.0.0.1, DNS:localhost) valid for 2 days.
 * `cn` names the CA so two calls give distinguishable CAs.
 */
export async function generateCertificates(cn = 'Berth PVE Simulator CA'): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'pve-sim-tls-'));
  const p = (f: string) => join(dir, f);
  try {
    await run('openssl', ['req', '-x509', ...EC, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2',
      '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await run('openssl', ['req', ...EC, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
    await writeFile(p('ext.cnf'), [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
    ].join('\n'));
    await run('openssl', ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
      '-CAcreateserial', '-out', p('server.crt'), '-days', '2', '-extfile', p('ext.cnf')]);
    const [caCert, key, cert] = await Promise.all([readFile(p('ca.crt'), 'utf8'), readFile(p('server.key'), 'utf8'), readFile(p('server.crt'), 'utf8')]);
    return {
      dir, caCert, caCertFile: p('ca.crt'), key, cert,
      fingerprint256: new X509Certificate(cert).fingerprint256,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
