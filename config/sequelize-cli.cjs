// Configuration for `npx sequelize-cli db:migrate`: the same database the server uses.
'use strict';
require('dotenv').config({ quiet: true });
const fs = require('node:fs');
const { resolveDatabaseUrl, sequelizeOptionsFromUrl } = require('./database-url.cjs');
const { prepareSqliteFile } = require('./paths.cjs');

const env = { ...process.env };
if (!env.DATABASE_URL && env.DATABASE_URL_FILE) env.DATABASE_URL = fs.readFileSync(env.DATABASE_URL_FILE, 'utf8').trim();
if (!env.MYSQL_PASSWORD && env.MYSQL_PASSWORD_FILE) env.MYSQL_PASSWORD = fs.readFileSync(env.MYSQL_PASSWORD_FILE, 'utf8').trim();
const options = { ...sequelizeOptionsFromUrl(resolveDatabaseUrl(env)), logging: false };
if (options.dialect === 'sqlite') prepareSqliteFile(options.storage);

module.exports = { development: options, test: options, production: options };
