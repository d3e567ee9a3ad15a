// Berth's web server: config → database (migrations applied) → app → listen, with graceful shutdown.
import type { AddressInfo } from 'node:net';
import { loadConfigOrExit } from './config/index.js';
import { createApp } from './src/app.js';
import { openDatabase } from './src/database.js';
import { installGracefulShutdown } from './src/lib/http/graceful-shutdown.js';
import { createLogger } from './src/lib/logger.js';

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL);

try {
  const db = await openDatabase(config, logger);
  const { app, stop } = createApp({ config, logger, sequelize: db.sequelize, models: db.models });
  const server = app.listen(config.PORT, config.HOST, () => {
    const { port } = server.address() as AddressInfo;
    logger.info({ url: `http://${config.HOST}:${port}`, database: config.database.dialect }, 'Berth is listening');
    if (config.database.dialect === 'sqlite') logger.info({ file: config.database.storage }, 'using SQLite');
  });
  server.on('error', (err) => {
    logger.fatal({ err }, 'cannot listen');
    process.exit(1);
  });
  installGracefulShutdown(server, logger, async () => {
    await stop();
    await db.close();
  });
} catch (err) {
  logger.fatal({ err }, 'startup failed');
  process.exit(1);
}
