// bin/expiry-scan's argument checks: they happen before the database is opened, so this runs once,
// without one (the scan itself is tested in test/integration/expiry/expiry-scan-cli.test.ts).
import { execFile } from 'node:child_process';
import { expect } from 'chai';
import { projectRoot } from '../../src/lib/paths.js';

const run = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('bin/expiry-scan', args, { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('bin/expiry-scan arguments', function () {
  this.timeout(60_000);

  it('exits 2 on bad arguments, with the usage; --help prints it and exits 0', async () => {
    // A bare date (UTC midnight is another day in many zones), an impossible month, an unknown option.
    const bad = [['--at', '2027-03-01'], ['--at', '2027-13-01T08:00:00Z'], ['--frobnicate']];
    const [help, ...results] = await Promise.all([run(['--help']), ...bad.map(run)]);
    results.forEach((result, i) => {
      expect(result.code, bad[i]!.join(' ')).to.equal(2);
      expect(result.stderr, bad[i]!.join(' ')).to.contain('usage: bin/expiry-scan');
    });
    expect(help.code).to.equal(0);
    expect(help.stdout.startsWith('usage: bin/expiry-scan')).to.equal(true);
  });
});
