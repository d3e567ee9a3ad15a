// Re-encrypts every vault value (credentials, node API tokens) sealed with an old key under the
// current ENCRYPTION_KEY: bin/rotate-key [--check]. The procedure is in docs/vault.md.
//   exit 0: everything is on the current key (after the run);
//   exit 1: --check found values on another key, or some could not be opened (key not configured).
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config/index.js';
import { Auditor } from '../src/audit/index.js';
import { openDatabase } from '../src/database.js';
import { createLogger } from '../src/lib/logger.js';
import { Vault, VaultError } from '../src/lib/vault.js';
import { rotateKeys, type RotationResult } from '../src/services/rotate-key.js';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
if (values.help) {
  console.log('usage: bin/rotate-key [--check]\n  Re-encrypts credentials and node tokens sealed with ENCRYPTION_OLD_KEYS under ENCRYPTION_KEY.\n  --check  only report what would change (exit 1 if anything is on an old key)');
  process.exit(0);
}

const config = loadConfigOrExit();
let vault: Vault;
try {
  vault = Vault.fromConfig(config);
} catch (err) {
  if (!(err instanceof VaultError)) throw err;
  console.error(`ENCRYPTION_KEY / ENCRYPTION_OLD_KEYS: ${err.message}`);
  process.exit(1);
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const counts = (r: RotationResult) => `${plural(r.credentials, 'credential', 'credentials')} and ${plural(r.nodeTokens, 'node token', 'node tokens')}`;

const logger = createLogger(config.LOG_LEVEL);
const db = await openDatabase(config);
// --check writes nothing, so it opens no audit file either.
const auditor = values.check ? new Auditor(db.models, null) : Auditor.fromConfig(config, db.models, logger, 'audit-cli.log');
try {
  const cmd = { models: db.models, sequelize: db.sequelize, auditor, vault, config, logger, actor: { username: null } };
  const result = await rotateKeys(cmd, { check: values.check });
  const left = result.unreadable.length;
  if (values.check) {
    const pending = result.credentials + result.nodeTokens;
    console.log(pending || left ? `would re-encrypt ${counts(result)} to key ${result.keyId}; ${left} cannot be opened with the configured keys` : `nothing to do: every value is sealed with key ${result.keyId}`);
  } else {
    console.log(`re-encrypted ${counts(result)} to key ${result.keyId}; ${left} left on old keys`);
  }
  for (const u of result.unreadable) console.error(`  ${u.table} #${u.id} (key ${u.keyId ?? '?'}): ${u.reason}`);
  if (left) console.error('Add the keys named above to ENCRYPTION_OLD_KEYS and run bin/rotate-key again before removing any old key.');
  process.exitCode = left || (values.check && result.credentials + result.nodeTokens) ? 1 : 0;
} finally {
  await auditor.close();
  await db.close();
}
