// The one rule for where Berth's project root and data directory are, and how files in it are
// created. Plain CommonJS so that the TypeScript sources, the compiled dist/ tree and sequelize-cli
// (config/sequelize-cli.cjs) all load the same code.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/**
 * The project root: the nearest directory above `start` that holds package.json. The compiled tree
 * (dist/config/…) has no package.json of its own, so from the sources and from dist/ this is the
 * same checkout directory, and with it the same data/.
 * @param {string} start
 * @returns {string}
 */
function findProjectRoot(start) {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

const projectRoot = findProjectRoot(__dirname);

/**
 * The data directory: DATA_DIR when set (a relative path is taken from the project root, so every
 * entry point agrees whatever its working directory), else <project root>/data.
 * @param {Record<string, string | undefined>} env
 * @returns {string}
 */
function resolveDataDir(env) {
  return path.resolve(projectRoot, env.DATA_DIR || 'data');
}

/**
 * Creates `dir` (and its parents) if missing and makes it private to Berth's user (0700): it holds
 * the database, the session secret and the vault key. A checkout's data/ comes from git as 0755, so an
 * existing directory is tightened too.
 * @param {string} dir
 */
function ensurePrivateDir(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir, 0o700);
}

/**
 * Creates `file` empty if missing, with mode 0600, and tightens an existing one to 0600. SQLite gives
 * its -wal and -shm files the mode of the database file, so preparing berth.db this way keeps all
 * three private.
 * @param {string} file
 */
function ensurePrivateFile(file) {
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  tighten(file, 0o600);
}

/**
 * Makes an SQLite database file and its directory private before SQLite opens it (SQLite would
 * create it 0644 under the usual umask); -wal/-shm files left by an older install are tightened too.
 * @param {string} file  the database path, or ':memory:'
 */
function prepareSqliteFile(file) {
  if (file === ':memory:') return;
  const dir = path.dirname(file);
  // A shared directory such as /tmp (sticky or world-writable) is never tightened: as root that made
  // /tmp 0700 and broke every other program's temporary files (MariaDB's among them). The files
  // themselves are still made private.
  if (fs.existsSync(dir) && isShared(dir)) fs.mkdirSync(dir, { recursive: true });
  else ensurePrivateDir(dir);
  ensurePrivateFile(file);
  for (const suffix of ['-wal', '-shm']) if (fs.existsSync(file + suffix)) tighten(file + suffix, 0o600);
}

/** True for a directory others may create files in (the sticky bit, or writable by everyone). */
function isShared(dir) {
  const { mode } = fs.statSync(dir);
  return (mode & 0o1000) !== 0 || (mode & 0o002) !== 0;
}

/** chmod to `mode` when group or others have any access; a file owned by someone else is left as it is. */
function tighten(target, mode) {
  const stat = fs.statSync(target);
  if ((stat.mode & 0o077) === 0) return;
  try {
    fs.chmodSync(target, mode);
  } catch (err) {
    if (err.code !== 'EPERM') throw err;
  }
}

module.exports = { projectRoot, findProjectRoot, resolveDataDir, ensurePrivateDir, ensurePrivateFile, prepareSqliteFile };
