// Mocha's spec reporter, plus the run's counts written to $BERTH_TEST_STATS for test/run.js to sum.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

class BerthReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.BERTH_TEST_STATS;
      if (file) fs.writeFileSync(file, JSON.stringify(this.stats));
    });
  }
}

module.exports = BerthReporter;
