import fs from 'node:fs';
import path from 'node:path';
import paths from './paths.cjs';

/**
 * Returns the secret kept in `<dataDir>/<name>`, creating it with `generate()` (mode 0600) on first
 * run, so a fresh install needs no configuration and the session secret and vault key survive
 * restarts. Several instances must be given the same value instead (SESSION_SECRET, ENCRYPTION_KEY).
 */
export function persistedSecret(dataDir: string, name: string, generate: () => string): string {
  const file = path.join(dataDir, name);
  paths.ensurePrivateDir(dataDir);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    paths.ensurePrivateFile(file);
    return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = generate();
  try {
    // 'wx' fails if another instance created the file in the meantime; then we read theirs.
    fs.writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8').trim();
    throw err;
  }
}
