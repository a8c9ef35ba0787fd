// Mocha reporter: the usual spec output, plus the run's counts written as JSON to
// $BERTH_STATS_FILE so that test/run.mjs can print one total for every tier.
const Mocha = require('mocha');
const fs = require('node:fs');

class StatsReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const file = process.env.BERTH_STATS_FILE;
      if (!file) return;
      const { passes = 0, failures = 0, pending = 0 } = this.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending }));
    });
  }
}
module.exports = StatsReporter;
