// A second Berth instance for test/integration/edge/publish.test.ts: its own process and database
// connection, publishing the edge config in a loop from the moment it prints "ready" until its
// stdin says "stop" (or closes), then printing how many publishes it made. Not a test file: when
// mocha loads it (a run given this folder), it does nothing.
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../config/index.js';
import { Auditor } from '../../../src/audit/index.js';
import { openDatabase } from '../../../src/database.js';
import { publishEdgeConfig } from '../../../src/edge/publish.js';
import { createLogger } from '../../../src/lib/logger.js';

async function main(): Promise<void> {
  const config = loadConfig({ dotenv: false, env: { ...process.env, EDGE_NGINX_BINARY: 'none', LOG_LEVEL: 'silent' } });
  const db = await openDatabase(config);
  const cmd = { models: db.models, sequelize: db.sequelize, config, logger: createLogger('silent'), actor: { username: 'second-instance' }, auditor: new Auditor(db.models, null) };
  let stopping = false;
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stop') stopping = true;
  });
  process.stdin.on('end', () => (stopping = true));
  process.stdout.write('ready\n');
  let count = 0;
  while (!stopping) {
    await publishEdgeConfig(cmd, { reason: `race: second instance round ${count}` });
    count++;
  }
  process.stdout.write(`done ${count}\n`);
  await db.close();
  process.exit(0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
