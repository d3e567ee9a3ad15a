import { openDatabase } from '../../src/database.js';
import { testContext, setTestContext, testConfig, hasTestContext } from './context.js';
import { createScratchDatabase } from './databases.js';
import { closeLeftovers } from './resources.js';
import { needsDatabase } from './tiers.js';

const LINGER_REPORT_MS = 10_000;

/** The files this mocha run loaded, from the root suite (tests may sit at the top level of a file). */
function loadedFiles(root: Mocha.Suite): string[] {
  return [...root.suites, ...root.tests].map((s) => s.file).filter((f): f is string => typeof f === 'string');
}

/**
 * Root hooks for every mocha run: a fresh database built by the real migrations (never sync()), dropped
 * at the end, unless every loaded file's tier runs without one (test/unit/, test/system/: creating and
 * migrating it cost seconds per run and hid tests that quietly needed it); and a check after each
 * test that it closed what it started.
 */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    const root = this.test?.parent;
    if (root && !needsDatabase(loadedFiles(root))) return;
    const scratch = await createScratchDatabase();
    const config = testConfig(scratch.url);
    const db = await openDatabase(config);
    setTestContext({ scratch, db, config });
  },

  async afterEach(this: Mocha.Context) {
    const leaked = await closeLeftovers();
    if (leaked.length) throw new Error(`the test left these running: ${leaked.join(', ')}`);
  },

  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    if (hasTestContext()) {
      const ctx = testContext();
      await ctx.db.close();
      await ctx.scratch.drop();
      setTestContext(undefined);
    }
    // Diagnostics for a run that does not exit (test/run.js ends it after a grace period): name what
    // still keeps the process alive. The timer is unref'd, so it never keeps it alive itself.
    setTimeout(() => {
      const counts = new Map<string, number>();
      for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
      console.log(`\nStill running ${LINGER_REPORT_MS / 1000} s after the last test; open: ${[...counts].map(([t, n]) => `${t} ×${n}`).join(', ')}`);
    }, LINGER_REPORT_MS).unref();
  },
};
