import type { Sequelize } from 'sequelize';
import type { Config } from '../config/index.js';
import type { Models } from '../models/index.js';
import type { Logger } from './lib/logger.js';

/**
 * What the app is built from (createApp in src/app.ts) and what every router's context extends.
 * It sits below the routes and the app so both can name it without importing each other.
 */
export interface AppDeps {
  config: Config;
  logger: Logger;
  sequelize: Sequelize;
  models: Models;
}
