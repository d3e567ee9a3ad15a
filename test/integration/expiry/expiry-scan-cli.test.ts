import { execFile } from 'node:child_process';
import { expect } from 'chai';
import { projectRoot } from '../../../src/lib/paths.js';
import { createContainer } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { testContext } from '../../support/context.js';
import { digestsOf, farDay, logsOf, plusDays, remindersOnly, uniqueName } from './scan-support.js';

const run = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const { scratch, config } = testContext();
    execFile(
      'bin/expiry-scan',
      args,
      {
        cwd: projectRoot,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: scratch.url, DATA_DIR: config.DATA_DIR, SESSION_SECRET: 'cli-test-secret-0123456789abcdefghijkl', TZ: 'Asia/Kolkata', PUBLIC_URL: 'https://berth.example.org', LOG_LEVEL: 'silent' },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('bin/expiry-scan', function () {
  this.timeout(60_000);
  before(remindersOnly);

  it('prints what a dry run would queue and writes nothing; without --dry-run it queues', async () => {
    const day = farDay();
    const { user } = await createUser({ username: uniqueName('cli'), email: 'cli@example.org' });
    const ct = await createContainer({ username: user.username, expiresAt: plusDays(day, 7) });
    const ref = [{ itemType: 'container' as const, itemId: ct.id }];
    const line = `reminder to ${user.username}: 1 item [${ct.hostname} (container, 7d, ${plusDays(day, 7)})]`;

    const dry = await run(['--at', `${day}T08:00:00+05:30`, '--dry-run']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.contain(`${line} → dry run, not queued`);
    expect(dry.stdout).to.contain(`expiry scan for ${day} (Asia/Kolkata, dry run): would queue 1 reminder(s), 0 expiry action(s)`);
    expect(await logsOf(ref)).to.deep.equal([]);
    expect(await digestsOf([user.username])).to.deep.equal([]);

    const real = await run(['--at', `${day}T08:00:00+05:30`]);
    expect(real.code, real.stderr).to.equal(0);
    const [digest] = await digestsOf([user.username]);
    expect(real.stdout).to.contain(`${line} → outbox #${digest!.id}`);
    expect(real.stdout).to.contain(`expiry scan for ${day} (Asia/Kolkata): queued 1 reminder(s)`);
    expect((await logsOf(ref)).map((l) => l.notice)).to.deep.equal(['7d']);

    // Again the same day: nothing more to send.
    const again = await run(['--at', `${day}T09:00:00+05:30`]);
    expect(again.stdout).to.not.contain(`reminder to ${user.username}`);
    expect(await digestsOf([user.username])).to.have.length(1);
  });
});
