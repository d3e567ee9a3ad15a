import { openDatabase } from '../../src/lib/db/index.js';
import { testContext, setTestContext, testConfig } from './context.js';
import { createScratchDatabase } from './databases.js';
import { closeLeftovers } from './resources.js';

const LINGER_REPORT_MS = 10_000;

/**
 * Root hooks for every mocha run: one fresh database built by the real migrations (never sync()),
 * dropped at the end; and a check after each test that it closed what it started.
 */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
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
    const ctx = testContext();
    await ctx.db.close();
    await ctx.scratch.drop();
    setTestContext(undefined);
    // Diagnostics for a run that does not exit (test/run.js ends it after a grace period): name what
    // still keeps the process alive. The timer is unref'd, so it never keeps it alive itself.
    setTimeout(() => {
      const counts = new Map<string, number>();
      for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
      console.log(`\nStill running ${LINGER_REPORT_MS / 1000} s after the last test; open: ${[...counts].map(([t, n]) => `${t} ×${n}`).join(', ')}`);
    }, LINGER_REPORT_MS).unref();
  },
};
