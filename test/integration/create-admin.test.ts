import { execFile } from 'node:child_process';
import { expect } from 'chai';
import { projectRoot } from '../../src/lib/paths.js';
import { testContext } from '../support/context.js';

const run = (args: string[], input: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      'bin/create-admin',
      args,
      { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', DATABASE_URL: testContext().scratch.url, SESSION_SECRET: 'cli-test-secret-0123456789abcdefghijkl' } },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });

describe('bin/create-admin', function () {
  this.timeout(30_000);

  it('creates a local admin with an argon2id hash', async () => {
    const result = await run(['--username', 'first-admin', '--email', 'ops@example.org', '--password-stdin'], 'correct horse battery staple\n');
    expect(result.stdout).to.contain("Created administrator 'first-admin'.");
    const user = await testContext().db.models.User.findOne({ where: { username: 'first-admin' } });
    expect(user?.role).to.equal('admin');
    expect(user?.realm).to.equal('local');
    expect(user?.passwordHash).to.match(/^\$argon2id\$/);
  });

  it('refuses a short password and a duplicate name with clear messages', async () => {
    const short = await run(['--username', 'second-admin', '--password-stdin'], 'short\n');
    expect(short.code).to.equal(1);
    expect(short.stderr).to.contain('password: must be at least 12 characters');
    const dup = await run(['--username', 'first-admin', '--password-stdin'], 'another long password\n');
    expect(dup.code).to.equal(1);
    expect(dup.stderr).to.contain("A user named 'first-admin' already exists.");
  });
});
