// Lint rules are errors or off, never warnings: `npm test` fails on any finding.
// The boundaries below (process.env, hand-written SQL, layers, cycles) are explained, with the same
// lists, in docs/ARCHITECTURE.md#boundaries: change both together.
import fs from 'node:fs';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import berth from './tools/lint/plugin.js';

const root = import.meta.dirname;

/** The shipped code: everything the boundaries apply to (config/ is the bottom layer and reads the environment). */
const SHIPPED = ['server.ts', 'job-runner.ts', 'src/**', 'models/**', 'bin/**'];

// 1. process.env is read by config/ only (parsed, validated, frozen); everything else gets a Config.
const ENV_ONLY_IN_CONFIG = 'Read settings from the parsed Config (config/index.ts), never process.env: config/ is its only reader.';

// 2. Hand-written SQL, found by its entry points: a `.query(` call (Sequelize, mysql2 or a query
// interface), `literal(`, however the SQL text reaches them, and any string that starts as a SQL
// statement. Everything else goes through the models.
const SQL_MESSAGE = 'Hand-written SQL is allowed only in the files the allow-list in eslint.config.js names (docs/ARCHITECTURE.md#boundaries): use the models, or add the file with a comment saying why.';
const SQL_SELECTORS = [
  "CallExpression[callee.type='MemberExpression'][callee.property.name='query']",
  "CallExpression[callee.type='MemberExpression'][callee.property.name='literal']:not([callee.object.name='z'])",
  "CallExpression[callee.type='Identifier'][callee.name=/^(query|literal)$/]",
  'Literal[value=/^\\s*(SELECT|INSERT INTO|UPDATE \\S+ SET|DELETE FROM|REPLACE INTO|CREATE|ALTER|DROP|PRAGMA|SET SESSION|KILL|SHOW)\\b/]',
  'TemplateElement[value.raw=/^\\s*(SELECT|INSERT INTO|UPDATE \\S+ SET|DELETE FROM|REPLACE INTO|CREATE|ALTER|DROP|PRAGMA|SET SESSION|KILL|SHOW)\\b/]',
].map((selector) => ({ selector, message: SQL_MESSAGE }));

/** The files allowed to hold hand-written SQL; each also says why in a comment at its top. */
const SQL_ALLOWED = [
  // The job claim: SELECT … FOR UPDATE SKIP LOCKED, which Sequelize cannot express.
  'src/jobs/claim.ts',
  // The output writer's fenced insert: INSERT … SELECT that writes only while the runner still owns the job.
  'src/jobs/output-writer.ts',
  // The MariaDB wake-up wait (SLEEP, interrupted by KILL QUERY) and its cleanup (SHOW PROCESSLIST).
  'src/jobs/wake.ts',
  // Runner staleness computed by the database's clock (CASE over databaseNow) in the heartbeat's read.
  'src/jobs/heartbeat.ts',
  // databaseNow (the database's clock as an expression), the per-session query time limit, SQLite pragmas.
  'src/lib/db/connect.ts',
  // The MariaDB migration lock: GET_LOCK / RELEASE_LOCK on one connection.
  'src/lib/db/migration-lock.ts',
  // LIKE … ESCAPE '!': Sequelize's Op.like has no ESCAPE clause, so user text would be a pattern.
  'src/lib/db/like.ts',
  // The inventory's tag filter: an exact match on the comma-separated tags column, next to its LIKE forms.
  'src/inventory/list-query.ts',
  // The health check's SELECT 1: proves the database answers, through no model.
  'src/routes/health.ts',
];

// 3. Layers, highest first: a file imports only from its own layer's folders (where sideways is
// allowed) and from the layers below. Type-only imports count: they couple the layers as much.
// Each layer lists its folders under src/ (or top-level paths); `sideways` says whether folders of
// the same layer may import each other.
const LAYERS = [
  { name: 'entry points', paths: ['server.ts', 'job-runner.ts', 'bin', 'src/app.ts'], sideways: true },
  { name: 'routes', paths: ['src/routes'], sideways: true },
  { name: 'request handling', paths: ['src/middlewares', 'src/policies', 'src/presenters'], sideways: false },
  { name: 'domain', paths: ['src/services', 'src/edge', 'src/notify', 'src/expiry', 'src/inventory', 'src/provisioning', 'src/jobs', 'src/audit', 'src/deps.ts', 'src/database.ts'], sideways: true },
  // src/lib is infrastructure that knows no table: it must not import models/ (types included).
  { name: 'lib', paths: ['src/lib', 'src/cli', 'src/dev', 'src/types'], sideways: true, forbid: ['models'] },
  { name: 'models and config', paths: ['models', 'config'], sideways: false },
];

/** import-x `no-restricted-paths` zones: for each layer, what it must not import. */
function layerZones() {
  const zones = [];
  LAYERS.forEach((layer, i) => {
    const below = LAYERS.slice(i + 1).flatMap((l) => l.paths).filter((p) => !layer.forbid?.includes(p));
    for (const own of layer.paths) {
      const allowed = new Set([...below, ...(layer.sideways ? layer.paths : [own])]);
      const message = `${own} is in the "${layer.name}" layer: it imports only ${layer.sideways ? 'its own layer' : 'itself'} and the layers below (docs/ARCHITECTURE.md#boundaries).`;
      // Under src/ everything not allowed is forbidden, so a new folder must be given a layer first.
      const srcExcept = [...allowed].filter((p) => p.startsWith('src/')).map((p) => `./${p.slice('src/'.length)}`);
      zones.push({ target: own, from: 'src', except: srcExcept, message });
      for (const top of ['server.ts', 'job-runner.ts', 'bin', 'models', 'config']) {
        if (!allowed.has(top)) zones.push({ target: own, from: top, message });
      }
    }
  });
  // Nothing shipped depends on code that is not shipped. The bin/ scripts that tsconfig.build.json
  // leaves out of dist/ (the demo and the simulator's launcher) are development tools themselves.
  const notShipped = new Set(JSON.parse(fs.readFileSync(`${root}/tsconfig.build.json`, 'utf8')).exclude);
  const shippedBin = fs.readdirSync(`${root}/bin`).map((f) => `bin/${f}`).filter((f) => /\.[cm]?[jt]s$/.test(f) && !notShipped.has(f));
  for (const from of ['test', 'tools', 'bench']) {
    zones.push({ target: ['server.ts', 'job-runner.ts', 'src', 'models', 'config', ...shippedBin], from, message: `${from}/ is not shipped: shipped code never imports it.` });
  }
  return zones;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', AbortController: 'readonly', fetch: 'readonly', TextDecoder: 'readonly',
        document: 'readonly', window: 'readonly', HTMLFormElement: 'readonly', EventSource: 'readonly', FormData: 'readonly',
        require: 'readonly', module: 'writable', __dirname: 'readonly',
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-console': 'off',
    },
  },
  {
    // chai's property assertions (expect(x).to.exist) read as bare expressions.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    files: ['migrations/**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Settings and SQL (docs/ARCHITECTURE.md#boundaries). config/, migrations/, test/, bench/ and
    // tools/ are outside: config/ is where the environment is read, the rest is not shipped.
    files: SHIPPED,
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: ENV_ONLY_IN_CONFIG }],
      'no-restricted-imports': ['error', { paths: ['process', 'node:process'].map((name) => ({ name, importNames: ['env'], message: ENV_ONLY_IN_CONFIG })) }],
      'no-restricted-syntax': ['error', ...SQL_SELECTORS],
    },
  },
  {
    // Layers and cycles, over the shipped code and config/.
    files: [...SHIPPED, 'config/**'],
    plugins: { 'import-x': importX, berth },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${root}/tsconfig.json` })],
      'import-x/extensions': ['.ts', '.js', '.cjs', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: layerZones() }],
      'berth/no-import-cycle': 'error',
    },
  },
  {
    files: SQL_ALLOWED,
    plugins: { berth },
    rules: { 'no-restricted-syntax': 'off', 'berth/sql-file-says-why': 'error' },
  },
);
