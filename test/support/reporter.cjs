// Mocha's spec reporter, plus the run's counts written to $BERTH_TEST_STATS for test/run.js to sum,
// with the wall time of each test file (its top-level suites, hooks included) so the run can name its
// slowest files.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END } = Mocha.Runner.constants;

class BerthReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const fileMs = {};
    const started = new Map();
    const topLevel = (suite) => suite.file && suite.parent && suite.parent.root;
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (topLevel(suite)) started.set(suite, Date.now());
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      if (!started.has(suite)) return;
      fileMs[suite.file] = (fileMs[suite.file] ?? 0) + Date.now() - started.get(suite);
      started.delete(suite);
    });
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.BERTH_TEST_STATS;
      if (file) fs.writeFileSync(file, JSON.stringify({ ...this.stats, fileMs }));
    });
  }
}

module.exports = BerthReporter;
