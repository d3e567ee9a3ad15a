// Berth's own lint rules, for the two boundaries no maintained plugin checks as Berth needs
// (docs/ARCHITECTURE.md#boundaries). Loaded by eslint.config.js as the `berth` plugin.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The project's import graph, one entry per module: its imports (type-only ones included) as
 * resolved paths. Imports are read with TypeScript's own import scanner (ts.preProcessFile, what tsc
 * uses to find a program's files), a fraction of the cost of parsing every module again as
 * import-x's graph does (measured on Berth: under 1 s of lint time against 7-12 s). Only relative specifiers are followed: a package cannot import Berth back. An entry
 * is re-read when its file's mtime changes, checked at most once a second, so an editor's
 * long-running linter sees edits while one `eslint .` run reads each file once.
 */
const graph = new Map();

function importsOf(file) {
  const now = Date.now();
  let entry = graph.get(file);
  if (entry && now - entry.checkedAt < 1000) return entry.imports;
  let mtimeMs;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    graph.set(file, { checkedAt: now, mtimeMs: null, imports: [] });
    return [];
  }
  if (entry && entry.mtimeMs === mtimeMs) {
    entry.checkedAt = now;
    return entry.imports;
  }
  const imports = scanImports(file, fs.readFileSync(file, 'utf8'));
  entry = { checkedAt: now, mtimeMs, imports };
  graph.set(file, entry);
  return imports;
}

/** The relative imports in `text` (the source of `file`), resolved. */
function scanImports(file, text) {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.filter((f) => f.fileName.startsWith('.'))
    .map((f) => ({ specifier: f.fileName, file: resolveRelative(file, f.fileName) }))
    .filter((i) => i.file);
}

/** Node's ESM resolution as TypeScript's NodeNext sees it: `./x.js` is `./x.ts` when that exists. */
function resolveRelative(from, specifier) {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.d.ts'), base.replace(/\.cjs$/, '.cts'), base.replace(/\.mjs$/, '.mts'), base];
  return candidates.find((c) => /\.[cm]?[jt]s$/.test(c) && fs.existsSync(c)) ?? null;
}

/**
 * `berth/no-import-cycle`: no module may import a module with a path back to itself, and unlike
 * import-x's `no-cycle` a type-only import is an edge like any other. import-x skips `import type`
 * because it is erased before run time, but a cycle of types still ties two modules together
 * (neither can be understood, moved or tested without the other), and Berth's layers count type
 * imports too. Reported once per file, on the import that starts the shortest way back.
 * @type {import('eslint').Rule.RuleModule}
 */
const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid importing a module with a dependency path back to the importer, type-only imports included.' },
    schema: [],
    messages: { cycle: 'Import cycle: {{route}}. Move what both sides need down a layer (docs/ARCHITECTURE.md#boundaries).' },
  },
  create(context) {
    const filename = context.physicalFilename;
    const show = (file) => path.relative(context.cwd, file);
    return {
      'Program:exit'(program) {
        // Breadth-first from all of this file's imports at once: one pass over what the file reaches.
        // This file's imports come from the text being linted, which an editor may not have saved.
        const direct = scanImports(filename, context.sourceCode.text).filter((i) => i.file !== filename);
        const seen = new Set(direct.map((i) => i.file));
        const queue = direct.map((i) => ({ file: i.file, specifier: i.specifier, route: [show(filename), show(i.file)] }));
        while (queue.length) {
          const { file, specifier, route } = queue.shift();
          for (const next of importsOf(file)) {
            if (next.file === filename) {
              const node = program.body.find((n) => n.source?.value === specifier) ?? program;
              context.report({ node, messageId: 'cycle', data: { route: [...route, show(filename)].join(' → ') } });
              return;
            }
            if (seen.has(next.file)) continue;
            seen.add(next.file);
            queue.push({ file: next.file, specifier, route: [...route, show(next.file)] });
          }
        }
      },
    };
  },
};

/**
 * `berth/sql-file-says-why`: a file on the hand-written SQL allow-list must say why it needs SQL, in a
 * comment among its first lines that contains "Hand-written SQL", so the reason is read where the SQL is.
 * @type {import('eslint').Rule.RuleModule}
 */
const sqlFileSaysWhy = {
  meta: {
    type: 'problem',
    docs: { description: 'Require a "Hand-written SQL" comment near the top of each file on the SQL allow-list.' },
    schema: [],
    messages: { missing: 'This file is on the hand-written SQL allow-list: say why in a comment within its first {{lines}} lines that contains "Hand-written SQL".' },
  },
  create(context) {
    const lines = 20;
    return {
      Program(node) {
        const said = context.sourceCode.getAllComments().some((c) => c.loc.start.line <= lines && /hand-written SQL/i.test(c.value));
        if (!said) context.report({ node, loc: { line: 1, column: 0 }, messageId: 'missing', data: { lines } });
      },
    };
  },
};

export default { meta: { name: 'berth' }, rules: { 'no-import-cycle': noImportCycle, 'sql-file-says-why': sqlFileSaysWhy } };
