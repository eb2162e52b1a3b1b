/**
 * Prints one plain closing line after the run — "rxpg: N passed, N failed, N skipped" — so that
 * anything reading the output (CI included) sees the totals in a runner-neutral form.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(
      `\nrxpg: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped\n`,
    );
  }
}

module.exports = SummaryReporter;
