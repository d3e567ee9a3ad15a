/**
 * Which database this mocha run tests against, as chosen by test/run.js: 'sqlite' or a MariaDB URL
 * whose user may create and drop databases. The only place the tests read the environment.
 */
export function testDatabaseTarget(): string {
  return process.env.BERTH_TEST_DATABASE ?? 'sqlite';
}
