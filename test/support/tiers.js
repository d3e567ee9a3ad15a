// The suite's tiers, in the order test/run.js runs them: where each tier's files live and which
// databases it runs on. A test file's folder decides its tier; test/run.js and the root hooks both ask
// tierOf(), so "does this run need a database" has one answer.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * @typedef {'unit' | 'system' | 'integration' | 'browser'} TierName
 * @typedef {{ name: TierName, folder: string, databases: 'none' | 'each' | 'sqlite' }} Tier
 */

/** @type {readonly Tier[]} */
export const TIERS = Object.freeze([
  // Pure code: no database is created, so it runs once.
  { name: 'unit', folder: 'test/unit/', databases: 'none' },
  // Real processes and servers that never touch Berth's database (the Proxmox client against the
  // simulator, the demo with its own SQLite, the test runner itself): once, without a database.
  { name: 'system', folder: 'test/system/', databases: 'none' },
  // What the database changes (SQL, transactions, locks, migrations): once per database.
  { name: 'integration', folder: 'test/integration/', databases: 'each' },
  // Pages in Chromium: what they show does not depend on the database, so once, on SQLite.
  { name: 'browser', folder: 'test/e2e/', databases: 'sqlite' },
]);

/**
 * Whether a run of these files needs the scratch database: not when every file's tier runs without one.
 * @param {string[]} files
 */
export const needsDatabase = (files) => files.some((file) => TIERS.find((tier) => tier.name === tierOf(file))?.databases !== 'none');

/** The glob of every test file of `tier`. */
export const tierGlob = (tier) => `${tier.folder}**/*.test.ts`;

/**
 * The tier of a test file, directory or glob, from its path (absolute, or relative to the project root, where test/run.js and mocha run).
 * Anything outside the tier folders (test/fixtures/runs, a file elsewhere) counts as integration: it
 * gets a database, which is never wrong, only slower.
 * @param {string} file
 * @returns {TierName}
 */
export function tierOf(file) {
  const relative = path.relative(PROJECT_ROOT, path.resolve(PROJECT_ROOT, file)).split(path.sep).join('/');
  const found = TIERS.find((tier) => `${relative}/`.startsWith(tier.folder));
  return found ? found.name : 'integration';
}
