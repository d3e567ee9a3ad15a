// test/run.js must never hang CI: a mocha run that prints its results and does not exit, or that runs
// past its limit, is ended with its whole process group and counted as failed, with the reason printed.
import { execFile } from 'node:child_process';
import { expect } from 'chai';
import { projectRoot } from '../../src/lib/paths.js';

function runSuite(args: string[], extraEnv: Record<string, string>): Promise<{ code: number; stdout: string; ms: number }> {
  const env: Record<string, string | undefined> = { ...process.env, TEST_DATABASE_URL: 'none', ...extraEnv };
  delete env.BERTH_TEST_DATABASE;
  delete env.BERTH_TEST_STATS;
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['test/run.js', ...args], { cwd: projectRoot, env, timeout: 180_000 }, (err, stdout) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, ms: Date.now() - started }),
    );
  });
}

describe('test/run.js: a run never hangs', function () {
  this.timeout(200_000);

  it('ends a run that printed its results but left a handle open, and counts it as failed', async () => {
    const result = await runSuite(['test/fixtures/runs/leaves-a-handle.test.ts'], { BERTH_TEST_EXIT_GRACE_SECONDS: '2' });
    expect(result.stdout).to.contain('integration (SQLite): mocha printed its results but did not exit within 2 s (a handle left open)');
    expect(result.stdout).to.match(/^1 passed, 0 failed$/m);
    expect(result.code).to.equal(1);
  });

  it('ends a run that goes past its time limit, with the reason', async () => {
    const result = await runSuite(['test/fixtures/runs/never-ends.test.ts'], { BERTH_TEST_RUN_LIMIT_MINUTES: '0.1' });
    expect(result.stdout).to.contain('integration (SQLite): mocha did not finish within 0.1 min');
    expect(result.stdout).to.contain('integration (SQLite): mocha ended without results');
    expect(result.code).to.equal(1);
  });
});

describe('test/run.js: tiers', function () {
  this.timeout(200_000);

  it('runs each file in its tier (a unit file without a database), passes flags to every run, and prints per-run times', async () => {
    const result = await runSuite(['test/unit/test-setup.test.ts', 'test/fixtures/runs/has-a-database.test.ts', '--grep', 'database'], {});
    expect(result.stdout.indexOf('=== unit ===')).to.be.greaterThan(-1).and.lessThan(result.stdout.indexOf('=== integration (SQLite) ==='));
    expect(result.stdout).not.to.contain('=== browser');
    expect(result.stdout).to.match(/^unit: 1 passed, 0 failed, \d+ s$/m);
    expect(result.stdout).to.match(/^integration \(SQLite\): 1 passed, 0 failed, \d+ s$/m);
    expect(result.stdout).to.match(/^total: 2 passed, 0 failed, \d+ s$/m);
    expect(result.stdout.trimEnd().split('\n').at(-1)).to.equal('2 passed, 0 failed');
    expect(result.code).to.equal(0);
  });
});
