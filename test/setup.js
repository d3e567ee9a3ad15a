#!/usr/bin/env node
// The test suite's system requirements, checked (and on Debian, installed) before `npm test` runs
// anything: headless Chromium for page tests, nginx with its stream module for edge-config tests,
// shellcheck for bin/berth-edge-pull (the edge hosts' POSIX sh script), and the openssl CLI for TLS
// fixtures. As root on Debian/Ubuntu it installs what is missing with apt-get; elsewhere it prints the
// one command that does, and stops before any test runs.
// The browser is found through BERTH_CHROMIUM (a path), else the usual install paths: the page tests
// (test/support/browser.ts) ask findChromium() below, so both agree.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const CHROMIUM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

const executable = (file) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/** The Chromium (or Chrome) binary the page tests launch, or undefined when none is installed. */
export function findChromium(env = process.env) {
  if (env.BERTH_CHROMIUM) return executable(env.BERTH_CHROMIUM) ? env.BERTH_CHROMIUM : undefined;
  return CHROMIUM_PATHS.find(executable);
}

const onPath = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
const nginxBinary = () => ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find(executable) ?? (onPath('nginx') ? 'nginx' : undefined);
const streamModule = () =>
  ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so'].some((f) => fs.existsSync(f)) ||
  // A build with the stream module compiled in (not Debian's) needs no module file.
  (nginxBinary() !== undefined && /--with-stream(?!=dynamic)/.test(spawnSync(nginxBinary(), ['-V'], { encoding: 'utf8' }).stderr ?? ''));

/** What is missing, as Debian package names with what each is for. */
export function missingRequirements(env = process.env) {
  const missing = [];
  if (!findChromium(env)) {
    missing.push({ pkg: 'chromium', why: env.BERTH_CHROMIUM ? `BERTH_CHROMIUM=${env.BERTH_CHROMIUM} is not an executable` : 'headless browser for the page tests' });
  }
  if (!nginxBinary()) missing.push({ pkg: 'nginx-light', why: 'nginx -t for the edge configuration tests' });
  if (!streamModule()) missing.push({ pkg: 'libnginx-mod-stream', why: "nginx's stream module (tcp/udp services)" });
  if (!onPath('shellcheck')) missing.push({ pkg: 'shellcheck', why: 'lint of bin/berth-edge-pull (POSIX sh on the edge hosts)' });
  if (!onPath('openssl')) missing.push({ pkg: 'openssl', why: 'TLS certificates for the Proxmox and SMTP tests' });
  return missing;
}

function main() {
  if (process.env.BERTH_CHROMIUM && !findChromium()) {
    console.log(`BERTH_CHROMIUM=${process.env.BERTH_CHROMIUM} is not an executable: point it at a Chromium or Chrome binary, or unset it.`);
    return 1;
  }
  const missing = missingRequirements();
  if (missing.length === 0) return 0;
  const packages = missing.map((m) => m.pkg);
  console.log('The tests need:');
  for (const m of missing) console.log(`  ${m.pkg.padEnd(20)} ${m.why}`);
  const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    console.log(`\nInstall them first, then run npm test again:\n  ${onPath('apt-get') ? `sudo sh -c '${command}'` : `(your system's packages for: ${packages.join(', ')})`}`);
    console.log('A browser elsewhere can be named with BERTH_CHROMIUM=/path/to/chromium.');
    return 1;
  }
  console.log(`\nInstalling with: ${command}`);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env: aptEnv });
    if (result.status !== 0) {
      console.log(`apt-get ${args[0]} failed (exit ${result.status}).`);
      return 1;
    }
  }
  const still = missingRequirements();
  if (still.length) {
    console.log(`Still missing after the install: ${still.map((m) => m.pkg).join(', ')}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) process.exit(main());
