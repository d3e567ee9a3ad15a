import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { listRoutes, type RouteInfo } from '../../src/routes/index.js';
import { projectRoot } from '../../src/lib/paths.js';
import { useApp } from '../support/app.js';

const DOC = path.join(projectRoot, 'docs', 'routes.md');

const HEADER = `# Routes

Every route Berth answers, generated from the route table (\`listRoutes()\` in src/routes/index.ts) by
\`npm run routes-doc\`; \`test/integration/routes-doc.test.ts\` fails when this page is out of date.

How to find the rule that decides something about a route (grep its path here first):
- **Who may reach it** (the *Access* column): \`access.public | user | admin\` in src/policies/access.ts.
- **Which object it loads and who may act on it** (*Loads*, \`kind: action\`): the loader in
  src/policies/subjects.ts reads the id from the path and calls \`authorize()\` in
  src/policies/authorize.ts, where every object rule lives (one owner-or-admin rule; 404 to others).
- **What it does**: the *Handler* in the *File*; the handler parses its input with the schema in
  src/routes/<file>.schema.ts, calls a command in src/services/ or a domain module (src/inventory/,
  src/jobs/), and answers through \`respond()\` (src/routes/respond.ts).
`;

function loads(route: RouteInfo): string {
  if (!route.subject) return '';
  const { kind, action, parent } = route.subject;
  return `${kind}${parent ? ` (of a ${parent.kind})` : ''}: ${action}`;
}

/** The page for the current route table. */
function render(routes: RouteInfo[]): string {
  const rows = routes.map((r) => `| ${r.method} | \`${r.path}\` | ${r.accessLevel ?? '**none**'} | ${loads(r)} | ${r.handlerName} | ${r.sourceFile} |`);
  return `${HEADER}\n| Method | Path | Access | Loads | Handler | File |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`;
}

describe('docs/routes.md', () => {
  const fixture = useApp();

  it('lists every route as the route table declares it', () => {
    const page = render(listRoutes(fixture.app));
    // `npm run routes-doc` runs this test with BERTH_WRITE_ROUTES_DOC=1 to write the page.
    if (process.env.BERTH_WRITE_ROUTES_DOC === '1') fs.writeFileSync(DOC, page);
    const current = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '';
    expect(current === page, 'docs/routes.md is out of date: run `npm run routes-doc`').to.equal(true);
  });
});
