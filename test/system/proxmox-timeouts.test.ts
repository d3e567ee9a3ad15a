// The Proxmox timeouts a person waits for (issue 16): a short connect timeout separate from the call's,
// both configurable and validated, and errors that say what was tried (URL, how long, what happened)
// against the simulator, a server that accepts and never answers, and a port that refuses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../config/index.js';
import { createProxmoxClient, formatDuration, ProxmoxTimeoutError, ProxmoxUnreachableError, type ProxmoxClientOptions } from '../../src/lib/proxmox/index.js';
import { ADMIN_TOKEN, startSim } from '../support/pve-sim.js';
import { refusedPort, startSilentServer } from '../support/silent-tcp.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig({ env: { DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'berth-timeouts-')), ...env }, dotenv: false });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

/** Calls GET /version with `opts`; returns the error and how long it took to come. */
async function failure(opts: Omit<ProxmoxClientOptions, 'auth'>): Promise<{ err: Error; ms: number }> {
  const client = createProxmoxClient({ ...opts, auth: ADMIN_TOKEN });
  const started = Date.now();
  try {
    await client.cluster.version();
  } catch (err) {
    return { err: err as Error, ms: Date.now() - started };
  } finally {
    await client.close();
  }
  throw new Error('expected the call to fail');
}

describe('proxmox timeouts', () => {
  describe('configuration', () => {
    it('defaults to a 5 s connect timeout and an 8 s "Test connection", beside the 15 s call timeout', () => {
      const config = loadConfig({ env: { DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'berth-timeouts-')) }, dotenv: false });
      expect([config.PROXMOX_TIMEOUT_MS, config.PROXMOX_CONNECT_TIMEOUT_MS, config.PROXMOX_TEST_TIMEOUT_MS]).to.deep.equal([15_000, 5_000, 8_000]);
      const set = loadConfig({ env: { DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'berth-timeouts-')), PROXMOX_CONNECT_TIMEOUT_MS: '1500', PROXMOX_TEST_TIMEOUT_MS: '3000' }, dotenv: false });
      expect([set.PROXMOX_CONNECT_TIMEOUT_MS, set.PROXMOX_TEST_TIMEOUT_MS]).to.deep.equal([1500, 3000]);
    });

    it('rejects values that are not whole milliseconds in range, naming each', () => {
      for (const bad of ['abc', '-1', '0', '99', '1.5', '120001', '5s']) {
        expect(problemsOf({ PROXMOX_CONNECT_TIMEOUT_MS: bad }).join('\n'), bad).to.match(/^PROXMOX_CONNECT_TIMEOUT_MS: /);
      }
      for (const bad of ['abc', '499', '120001', '2.5']) {
        expect(problemsOf({ PROXMOX_TEST_TIMEOUT_MS: bad }).join('\n'), bad).to.match(/^PROXMOX_TEST_TIMEOUT_MS: /);
      }
      // Every problem at once.
      const both = problemsOf({ PROXMOX_CONNECT_TIMEOUT_MS: 'x', PROXMOX_TEST_TIMEOUT_MS: '1' });
      expect(both.map((p) => p.split(':')[0]).sort()).to.deep.equal(['PROXMOX_CONNECT_TIMEOUT_MS', 'PROXMOX_TEST_TIMEOUT_MS']);
    });
  });

  describe('the client', () => {
    it('formats durations as people read them', () => {
      expect([formatDuration(300), formatDuration(5000), formatDuration(1500), formatDuration(8000)]).to.deep.equal(['300 ms', '5 s', '1.5 s', '8 s']);
    });

    it('gives up on a TLS connection that never completes after the connect timeout, not the call timeout, saying so', async () => {
      const silent = await startSilentServer();
      try {
        const { err, ms } = await failure({ baseUrl: silent.url('https'), timeoutMs: 5000, connectTimeoutMs: 300, tls: { verify: false } });
        expect(err).to.be.instanceOf(ProxmoxTimeoutError);
        expect(err.message).to.equal(`Proxmox at ${silent.url('https')} did not accept a connection within 300 ms (connect timeout; GET ${silent.url('https')}/api2/json/version)`);
        // Our own timer ended it at the configured 300 ms (undici's coarse one would wait ~1 s), and
        // said how long it waited; the 5 s call timeout is far off.
        expect(ms).to.be.within(290, 4500);
        expect(String((err.cause as Error & { cause?: Error })?.cause?.message ?? (err.cause as Error)?.message)).to.match(/within 300 ms \(waited (\d+) ms\)$/);
        expect(silent.accepted(), 'the TCP connection was made').to.be.at.least(1);
      } finally {
        await silent.close();
      }
    });

    it('gives up on an accepted connection that never answers after the call timeout, naming URL and duration', async () => {
      const silent = await startSilentServer();
      try {
        const { err, ms } = await failure({ baseUrl: silent.url(), timeoutMs: 1200, connectTimeoutMs: 300 });
        expect(err).to.be.instanceOf(ProxmoxTimeoutError);
        expect(err.message).to.equal(`Proxmox at ${silent.url()} did not answer within 1.2 s (GET ${silent.url()}/api2/json/version)`);
        expect(ms).to.be.within(1150, 10_000);
      } finally {
        await silent.close();
      }
    });

    it('never lets the connect timeout outlast the call timeout', async () => {
      const silent = await startSilentServer();
      try {
        const { err, ms } = await failure({ baseUrl: silent.url('https'), timeoutMs: 400, connectTimeoutMs: 10_000, tls: { verify: false } });
        expect(err).to.be.instanceOf(ProxmoxTimeoutError);
        expect(err.message).to.match(/within 400 ms/);
        expect(ms).to.be.lessThan(8000);
      } finally {
        await silent.close();
      }
    });

    it('says a refused port was refused, with the address tried', async () => {
      const refused = await refusedPort();
      const { port } = refused;
      try {
        // The message names the refusal (not a timeout), which is what this checks; no wall-clock bound.
        const { err } = await failure({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5000, connectTimeoutMs: 1000 });
        expect(err).to.be.instanceOf(ProxmoxUnreachableError);
        expect(err.message).to.match(new RegExp(`^Proxmox at http://127\\.0\\.0\\.1:${port} is unreachable: connection refused: nothing listens on that port, or a firewall rejects it \\((connect )?ECONNREFUSED[^)]*127\\.0\\.0\\.1:${port}\\)$`));
      } finally {
        await refused.close();
      }
    });

    it('answers within the timeouts from the simulator, and a slow simulator hits the call timeout', async () => {
      const s = await startSim();
      try {
        const ok = createProxmoxClient({ ...s.clientOptions(), timeoutMs: 5000, connectTimeoutMs: 1000 });
        try {
          expect((await ok.cluster.version()).version).to.equal('9.1.3');
        } finally {
          await ok.close();
        }
        s.sim.setTiming({ responseDelayMs: 1500 });
        const { err } = await failure({ baseUrl: s.url, timeoutMs: 500, connectTimeoutMs: 300 });
        expect(err).to.be.instanceOf(ProxmoxTimeoutError);
        expect(err.message).to.equal(`Proxmox at ${s.url} did not answer within 500 ms (GET ${s.url}/api2/json/version)`);
      } finally {
        await s.close();
      }
    });
  });
});
