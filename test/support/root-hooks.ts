import { openDatabase } from '../../src/lib/db/index.js';
import { testContext, setTestContext, testConfig } from './context.js';
import { createScratchDatabase } from './databases.js';
import { closeLeftovers } from './resources.js';

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
  },
};
