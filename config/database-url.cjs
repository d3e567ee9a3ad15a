// Resolves where Berth's database lives from the environment. Plain CommonJS so that both the
// TypeScript config (config/index.ts) and sequelize-cli (config/sequelize-cli.cjs) use one rule.
'use strict';
const path = require('node:path');
const { projectRoot, resolveDataDir } = require('./paths.cjs');

/**
 * Returns the database URL Berth should use.
 * DATABASE_URL wins; otherwise the seed's discrete MYSQL_* variables build a mysql:// URL;
 * otherwise the embedded default, SQLite in <DATA_DIR>/berth.db.
 * @param {Record<string, string | undefined>} env
 * @returns {string}
 */
function resolveDatabaseUrl(env) {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  if (env.MYSQL_HOST || env.MYSQL_DATABASE) {
    const user = encodeURIComponent(env.MYSQL_USER || 'root');
    const password = env.MYSQL_PASSWORD ? ':' + encodeURIComponent(env.MYSQL_PASSWORD) : '';
    const host = env.MYSQL_HOST || 'localhost';
    const port = env.MYSQL_PORT || '3306';
    return `mysql://${user}${password}@${host}:${port}/${encodeURIComponent(env.MYSQL_DATABASE || 'berth')}`;
  }
  return 'sqlite:' + path.join(resolveDataDir(env), 'berth.db');
}

/**
 * Turns a database URL into Sequelize constructor options (without logging or hooks).
 * @param {string} url  sqlite:PATH, sqlite::memory:, or mysql://user:pass@host:port/db (mariadb:// too)
 */
function sequelizeOptionsFromUrl(url) {
  if (url.startsWith('sqlite:')) {
    const storage = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    return { dialect: 'sqlite', storage: storage === ':memory:' ? ':memory:' : path.resolve(projectRoot, storage) };
  }
  const parsed = new URL(url);
  if (!['mysql:', 'mariadb:'].includes(parsed.protocol)) {
    throw new Error(`unsupported database URL scheme '${parsed.protocol}' (use sqlite: or mysql://)`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new Error('the database URL names no database (mysql://user:pass@host:3306/DATABASE)');
  return {
    dialect: 'mysql',
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

module.exports = { resolveDatabaseUrl, sequelizeOptionsFromUrl };
