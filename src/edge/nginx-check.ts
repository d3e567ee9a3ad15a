import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isEdgePath, type Config } from '../../config/index.js';
import { siteFromConfig, type EdgeSite } from './registry.js';

/**
 * Proving a version with the real `nginx -t` on the Berth host before it is published: the config is
 * rendered for a check site (pid, logs and temp files in a throwaway directory, and a placeholder
 * certificate unless Berth runs on the edge itself), written there and tested. Everything else in
 * the text (names, ports, addresses) is what the edge gets, on the same lines.
 */

const CHECK_TIMEOUT_MS = 30_000;
const DEFAULT_NGINX = '/usr/sbin/nginx';
/** nginx gets this PATH and nothing else of Berth's environment (secrets): it is run by its absolute path anyway. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The nginx binary that checks versions (EDGE_NGINX_BINARY), or null when versions are published unchecked. */
export function nginxBinary(config: Config): string | null {
  const v = config.EDGE_NGINX_BINARY;
  if (v === 'none') return null;
  if (v !== 'auto') return v;
  try {
    fs.accessSync(DEFAULT_NGINX, fs.constants.X_OK);
    return DEFAULT_NGINX;
  } catch {
    return null;
  }
}

export interface NginxCheckResult {
  ok: boolean;
  /** nginx's stderr as it printed it (or why it could not finish). */
  output: string;
  /** The line of the config the error is at, when nginx names one (or names a certificate or port a line holds). */
  line: number | null;
}

/**
 * Runs `<binary> -t` on `body`, written to `<workDir>/nginx.conf`, with `workDir` as the prefix.
 * A config nginx refuses is a result (ok false), never an exception; a binary that cannot be started
 * at all is a fault of the setup and throws.
 */
export async function checkWithNginx(body: string, options: { binary: string; workDir: string }): Promise<NginxCheckResult> {
  const confPath = path.join(options.workDir, 'nginx.conf');
  await fs.promises.writeFile(confPath, body);
  const { code, stderr, timedOut, spawnError } = await new Promise<{ code: number | null; stderr: string; timedOut: boolean; spawnError: Error | null }>((resolve) => {
    const child = execFile(
      options.binary,
      ['-t', '-p', `${options.workDir}/`, '-c', confPath],
      { env: { PATH: SYSTEM_PATH }, timeout: CHECK_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, _stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        const notStarted = e && typeof e.code === 'string' ? e : null;
        resolve({ code: child.exitCode, stderr, timedOut: Boolean(e?.killed), spawnError: notStarted });
      },
    );
  });
  if (spawnError) throw new Error(`nginx could not be run (${options.binary}): ${spawnError.message}`);
  if (timedOut) return { ok: false, output: `${stderr}nginx -t did not finish in ${CHECK_TIMEOUT_MS / 1000} s and was stopped\n`, line: null };
  const ok = code === 0;
  return { ok, output: stderr, line: ok ? null : errorLine(stderr, confPath, body) };
}

/**
 * The config line nginx's error is at. nginx names it (`... in /x/nginx.conf:12`) for syntax and most
 * directive errors, but not for what fails after parsing: a certificate it cannot load (named by its
 * path) or a port it cannot bind (named by address). For those the first line holding that path or
 * port is the one: nginx loads certificates and opens ports in the order of the text, and stops at
 * the first failure.
 */
export function errorLine(output: string, confPath: string, body: string): number | null {
  const named = new RegExp(` in ${escapeRegExp(confPath)}:(\\d+)\\s*$`, 'm').exec(output);
  if (named) return Number(named[1]);
  const lines = body.split('\n');
  const firstLine = (test: (line: string) => boolean): number | null => {
    const i = lines.findIndex(test);
    return i < 0 ? null : i + 1;
  };
  const certificate = /cannot load certificate( key)? "([^"]+)"/.exec(output);
  if (certificate) {
    const directive = certificate[1] ? 'ssl_certificate_key' : 'ssl_certificate';
    return firstLine((l) => l.trim() === `${directive} ${certificate[2]};`);
  }
  const bind = /bind\(\) to [^ ]*:(\d+) failed/.exec(output);
  if (bind) return firstLine((l) => new RegExp(`^\\s*listen ${bind[1]}[ ;]`).test(l));
  return null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The site a version is checked against: the configured one with pid, logs and temp files inside
 * `workDir`; with EDGE_CHECK_CERTIFICATES=placeholder every certificate replaced by a throwaway pair
 * (the edge's keys are not on the Berth host). When Berth may not bind ports below the kernel's
 * unprivileged start (not root), the http and https ports move up by 60000: `nginx -t` binds every
 * port it listens on and would refuse 80 and 443 for want of permission, not for anything in the
 * config. Lines stay the same (only values inside lines change).
 */
export async function checkSite(config: Config, workDir: string): Promise<EdgeSite> {
  const site: EdgeSite = {
    ...siteFromConfig(config),
    pidFile: path.join(workDir, 'nginx.pid'),
    errorLog: path.join(workDir, 'error.log'),
    accessLog: path.join(workDir, 'access.log'),
    tempDir: workDir,
  };
  const lowest = await lowestBindablePort();
  if (site.httpPort < lowest) site.httpPort += 60_000;
  if (site.httpsPort < lowest) site.httpsPort += 60_000;
  if (config.EDGE_CHECK_CERTIFICATES === 'placeholder') {
    const pem = await placeholderCertificate(config.DATA_DIR, workDir, config.jobEnv.PATH ?? SYSTEM_PATH);
    site.certificateOverride = { certificate: pem, key: pem };
  }
  return site;
}

/** The lowest port this process may bind: 0 for root, else the kernel's unprivileged start (1024 by default). */
async function lowestBindablePort(): Promise<number> {
  if (process.getuid?.() === 0) return 0;
  try {
    const v = Number((await fs.promises.readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')).trim());
    return Number.isInteger(v) ? v : 1024;
  } catch {
    return 1024;
  }
}

const placeholders = new Map<string, Promise<string>>();

/**
 * A self-signed certificate and its key in one PEM file (nginx reads the certificate and the key out
 * of the same file), made once per data directory under `<DATA_DIR>/edge-check/`. One file, written
 * under a temporary name and renamed, so two processes making it at once never pair one's
 * certificate with the other's key. When DATA_DIR's path cannot be written into nginx.conf as it is
 * (a space, say), the pair is made inside the check's own directory instead, every time.
 */
async function placeholderCertificate(dataDir: string, workDir: string, searchPath: string): Promise<string> {
  const dir = path.join(path.resolve(dataDir), 'edge-check');
  if (!isEdgePath(dir)) return makePlaceholder(workDir, searchPath);
  let made = placeholders.get(dir);
  if (!made) {
    made = (async () => {
      const file = path.join(dir, 'placeholder.pem');
      if (fs.existsSync(file)) return file;
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = await fs.promises.mkdtemp(path.join(dir, 'making-'));
      try {
        await fs.promises.rename(await makePlaceholder(tmp, searchPath), file);
      } finally {
        await fs.promises.rm(tmp, { recursive: true, force: true });
      }
      return file;
    })();
    placeholders.set(dir, made);
    // A failure (openssl missing) is not cached: the next check tries again.
    made.catch(() => placeholders.delete(dir));
  }
  return made;
}

/** Makes `<dir>/placeholder.pem` (key and certificate) with the openssl CLI found on `searchPath`; returns its path. */
async function makePlaceholder(dir: string, searchPath: string): Promise<string> {
  const keyFile = path.join(dir, 'placeholder.key');
  const certFile = path.join(dir, 'placeholder.crt');
  await run('openssl', searchPath, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '36500', '-subj', '/CN=berth-edge-check-placeholder',
  ]);
  const pem = path.join(dir, 'placeholder.pem');
  const [key, cert] = await Promise.all([fs.promises.readFile(keyFile, 'utf8'), fs.promises.readFile(certFile, 'utf8')]);
  await fs.promises.writeFile(pem, cert + key, { mode: 0o600 });
  return pem;
}

function run(file: string, searchPath: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { PATH: searchPath }, timeout: CHECK_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${file} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/**
 * Runs `fn` with a fresh, empty directory for one check (nginx's prefix: the config, its temp files)
 * and removes the directory afterwards, whatever `fn` did.
 */
export async function withCheckDir<T>(_config: Config, fn: (workDir: string) => Promise<T>): Promise<T> {
  const base = isEdgePath(os.tmpdir()) ? os.tmpdir() : '/tmp';
  const workDir = await fs.promises.mkdtemp(path.join(base, 'berth-edge-check-'));
  try {
    return await fn(workDir);
  } finally {
    await fs.promises.rm(workDir, { recursive: true, force: true });
  }
}
