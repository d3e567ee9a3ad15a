#!/usr/bin/env node
// Compiles Berth into dist/ (tsc -p tsconfig.build.json), but only when the sources changed since the
// last build: `npm start` runs this first, so a start with nothing changed does not wait for tsc.
// The check hashes every input's path and content (not mtimes, which a checkout or copy rewrites) and
// compares with the hash written into dist/ by the last successful build. tsc itself runs
// incrementally (dist/.tsbuildinfo), so one changed file recompiles quickly too.
//   node bin/build.js           build if stale
//   node bin/build.js --force   always run tsc (npm run build)
//   node bin/build.js --check   exit 0 when dist/ is current, 1 when not (bin/run-ts.sh asks this)
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const stampFile = path.join(dist, '.build-hash');

// What tsconfig.build.json compiles, plus the files that change how it compiles.
const INPUT_FILES = ['server.ts', 'job-runner.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const INPUT_DIRS = ['config', 'models', 'src', 'bin'];
const SOURCE = /\.(ts|cts|mts|cjs|js|json)$/;

function listInputs() {
  const files = INPUT_FILES.filter((f) => fs.existsSync(path.join(root, f)));
  for (const dir of INPUT_DIRS) {
    for (const entry of fs.readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && SOURCE.test(entry.name)) files.push(path.relative(root, path.join(entry.parentPath, entry.name)));
    }
  }
  return files.sort();
}

function sourceHash() {
  const hash = crypto.createHash('sha256');
  for (const file of listInputs()) {
    hash.update(file + '\0');
    hash.update(fs.readFileSync(path.join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

const force = process.argv.includes('--force');
const started = Date.now();
const current = sourceHash();
const previous = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '';
const upToDate = previous === current && fs.existsSync(path.join(dist, 'server.js'));
if (process.argv.includes('--check')) process.exit(upToDate ? 0 : 1);
if (!force && upToDate) {
  console.log(`dist/ is up to date (checked in ${Date.now() - started} ms)`);
  process.exit(0);
}

const why = force ? 'Compiling' : previous ? 'Sources changed since the last build: compiling' : 'First build: compiling';
console.log(`${why} Berth into dist/ …`);
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (result.status !== 0) {
  fs.rmSync(stampFile, { force: true });
  console.error('The build failed (see above); dist/ was left as it was.');
  process.exit(result.status ?? 1);
}
fs.writeFileSync(stampFile, current + '\n');
console.log(`Built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
