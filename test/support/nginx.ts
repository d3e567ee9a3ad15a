/**
 * Helpers for tests that run the real nginx (/usr/sbin/nginx with Debian's dynamic stream module):
 * certificates made with the openssl CLI, an EdgeSite whose every path sits in a test prefix, free
 * ports, and a started nginx that can be reloaded and is always stopped (tracked: a test that leaves
 * it running fails).
 *
 *   const prefix = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'edge-'));
 *   const site = await testSite(prefix);                      // free http/https ports, a default certificate
 *   const { body } = renderEdgeConfig(snapshot, site);
 *   await fs.promises.writeFile(path.join(prefix, 'nginx.conf'), body);
 *   const nginx = await startNginx(prefix, path.join(prefix, 'nginx.conf'));
 *   ...
 *   await nginx.stop();
 */
import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EdgeSite, RegistryService } from '../../src/edge/registry.js';
import { track } from './resources.js';

const run = promisify(execFile);

export const NGINX_BINARY = '/usr/sbin/nginx';
export const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
/** nginx and openssl get this environment and nothing of the test's. */
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

export interface CertificatePair {
  /** Paths, as EdgeSite and PublicDomain hold them. */
  certificate: string;
  key: string;
  /** The certificate's PEM: a client trusts it as its own CA (it is self-signed). */
  pem: string;
}

/** A self-signed EC certificate for `cn` (also its DNS name), valid two days: `<dir>/<cn>.crt` and `.key`. */
export async function makeCertificate(dir: string, cn: string): Promise<CertificatePair> {
  const certificate = path.join(dir, `${cn}.crt`);
  const key = path.join(dir, `${cn}.key`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', certificate,
    '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`,
  ], { env: ENV });
  return { certificate, key, pem: await fs.promises.readFile(certificate, 'utf8') };
}

/** A TCP port free on this machine right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A UDP port free on this machine right now. */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.once('error', reject).bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * An EdgeSite with every path inside `prefix` (pid, logs, temp files), the stream module loaded,
 * free http and https ports, short timeouts, and a default certificate made in `prefix` (for
 * `edge-default.test`) unless `overrides` names one.
 */
export async function testSite(prefix: string, overrides: Partial<EdgeSite> = {}): Promise<EdgeSite> {
  const needsCertificate = overrides.certificate === undefined || overrides.certificateKey === undefined;
  const pair = needsCertificate ? await makeCertificate(prefix, 'edge-default.test') : null;
  return {
    loadModule: STREAM_MODULE,
    pidFile: path.join(prefix, 'nginx.pid'),
    errorLog: path.join(prefix, 'error.log'),
    accessLog: path.join(prefix, 'access.log'),
    tempDir: prefix,
    certificate: pair?.certificate ?? overrides.certificate!,
    certificateKey: pair?.key ?? overrides.certificateKey!,
    httpPort: overrides.httpPort ?? (await freePort()),
    httpsPort: overrides.httpsPort ?? (await freePort()),
    proxyConnectTimeoutSeconds: 2,
    proxyTimeoutSeconds: 10,
    clientMaxBodySize: '1m',
    workerConnections: 256,
    ...overrides,
  };
}

let nextServiceId = 1_000_000;

/**
 * A registry service on a running container at 127.0.0.1 (ids count up, so services of one test
 * never collide); `overrides.container` is merged into the container.
 */
export function edgeService(overrides: Partial<Omit<RegistryService, 'container'>> & { container?: Partial<RegistryService['container']> } = {}): RegistryService {
  const id = overrides.id ?? nextServiceId++;
  const { container, ...rest } = overrides;
  return {
    id,
    type: 'http',
    internalPort: 8080,
    externalPort: null,
    externalHostname: rest.type && rest.type !== 'http' ? null : `svc-${id}.example.test`,
    tls: false,
    domain: null,
    ...rest,
    container: { id, hostname: `ct-${id}`, ipv4Address: '127.0.0.1', status: 'running', ...container },
  };
}

export interface RunningNginx {
  pid: number;
  /**
   * `nginx -s reload` with the same prefix and config, then waits until the reload is done: the
   * master runs a new set of workers and every old one has exited (so connections made afterwards
   * see the new config). Rejects with the error log's tail when the new config is refused.
   */
  reload(): Promise<void>;
  /** Stops nginx (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** The error log's text so far. */
  errorLog(): string;
}

/**
 * Starts `nginx -p <prefix>/ -c <confPath> -g 'daemon off;'` in the foreground and waits until it
 * has written its pid file (after it opened its listening sockets). The pid file and error log are
 * taken from the config's `pid` and `error_log` lines. Tracked until stopped.
 */
export async function startNginx(prefix: string, confPath: string): Promise<RunningNginx> {
  const conf = await fs.promises.readFile(confPath, 'utf8');
  const pidFile = /^pid (\S+);$/m.exec(conf)?.[1] ?? path.join(prefix, 'logs/nginx.pid');
  const errorLogFile = /^error_log (\S+);$/m.exec(conf)?.[1] ?? null;
  const errorLog = () => (errorLogFile && fs.existsSync(errorLogFile) ? fs.readFileSync(errorLogFile, 'utf8') : '');
  const args = ['-p', `${prefix}/`, '-c', confPath];
  const proc = spawn(NGINX_BINARY, [...args, '-g', 'daemon off;'], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));

  const stopNow = async () => {
    if (!running) return;
    // Fast shutdown: a graceful one (SIGQUIT) waits out open UDP sessions and proxied connections.
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const untrack = track(`nginx (${confPath})`, stopNow);

  try {
    await until(() => {
      if (!running) throw new Error(`nginx exited at start: ${stderr}${errorLog()}`);
      return fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() === String(proc.pid);
    }, 10_000, () => `nginx did not start in 10 s: ${stderr}${errorLog()}`);
  } catch (err) {
    await untrack();
    throw err;
  }

  return {
    pid: proc.pid!,
    errorLog,
    async reload() {
      const before = workers(proc.pid!);
      await run(NGINX_BINARY, [...args, '-s', 'reload'], { env: ENV });
      await until(() => {
        const now = workers(proc.pid!);
        return now.length > 0 && now.every((w) => !before.includes(w));
      }, 10_000, () => `nginx did not finish reloading in 10 s: ${errorLog().split('\n').slice(-10).join('\n')}`);
    },
    stop: untrack,
  };
}

/** The pids of the master's children (its workers), from /proc. */
function workers(master: number): number[] {
  try {
    return fs.readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Polls `test` every 20 ms until it is true; rejects with `message()` after `ms`. Rethrows what `test` throws. */
export async function until(test: () => boolean | Promise<boolean>, ms: number, message: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await test()) return;
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
