/**
 * TLS material for tests, generated with the `openssl` CLI into a temp directory: a CA and a
 * server certificate for 127.0.0.1 signed by it. Call `cleanup()` when done (after/afterEach).
 *
 *   const trusted = await makeCertificates();            // serve with trusted.key / trusted.cert
 *   const stranger = await makeCertificates('Other CA');  // a CA the server was not signed by
 */
import { generateCertificates, type TestCertificates } from '../../tools/pve-sim/index.js';

export type { TestCertificates };

/** A fresh CA plus server certificate (SAN IP:127.0.0.1, DNS:localhost). */
export function makeCertificates(caName?: string): Promise<TestCertificates> {
  return generateCertificates(caName);
}
