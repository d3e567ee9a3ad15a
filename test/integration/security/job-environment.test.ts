// Issue 10: a job's process inherited the runner's environment minus a deny-list of secret-looking
// names, which missed ENCRYPTION_OLD_KEYS. A job now starts from an allow-list (PATH, HOME, LANG, TZ,
// JOB_ENV_PASSTHROUGH) plus what its task sets, whatever else the runner holds.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { z } from 'zod';
import { loadConfig } from '../../../config/index.js';
import { registerTask } from '../../../src/jobs/tasks/registry.js';
import { createJob } from '../../factories/jobs.js';
import { testContext } from '../../support/context.js';
import { insertShellJob, jobOutput, startRunner, startRunnerProcess, waitForJob } from '../../support/runner.js';

const key = () => crypto.randomBytes(32).toString('base64');

/** `env` output as a map (one NAME=value per line). */
function parseEnv(output: string): Map<string, string> {
  return new Map(output.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('security: a job process starts from an allow-listed environment', function () {
  this.timeout(60_000);

  it('a real runner with secrets and stray variables in its environment hands the job none of them', async () => {
    const planted = {
      ENCRYPTION_KEY: key(),
      ENCRYPTION_OLD_KEYS: `${key()},${key()}`,
      SMTP_PASSWORD: `smtp-${crypto.randomBytes(8).toString('hex')}`,
      FOO: `foo-${crypto.randomBytes(8).toString('hex')}`,
      LANG: 'C.UTF-8',
      TZ: 'Europe/Berlin',
    };
    const runner = await startRunnerProcess(planted);
    try {
      const id = await insertShellJob('env');
      const job = await waitForJob(id);
      expect(job.status, job.error ?? '').to.equal('success');
      const output = await jobOutput(id, 'stdout');
      const env = parseEnv(output);

      // The runner was started with SESSION_SECRET and DATABASE_URL too (test/support/runner.ts).
      for (const name of ['ENCRYPTION_KEY', 'ENCRYPTION_OLD_KEYS', 'SMTP_PASSWORD', 'SESSION_SECRET', 'DATABASE_URL', 'FOO', 'LOG_LEVEL', 'JOB_RUNNER_POLL_MS']) {
        expect(env.has(name), `${name} reached the job`).to.equal(false);
      }
      for (const value of [...planted.ENCRYPTION_OLD_KEYS.split(','), planted.ENCRYPTION_KEY, planted.SMTP_PASSWORD, planted.FOO, testContext().scratch.url]) {
        expect(output).not.to.include(value);
      }
      expect(env.get('PATH')).to.equal(process.env.PATH);
      expect(env.get('HOME')).to.equal(process.env.HOME);
      expect(env.get('LANG')).to.equal('C.UTF-8');
      expect(env.get('TZ')).to.equal('Europe/Berlin');
    } finally {
      await runner.stop();
    }
  });

  it('passes the names JOB_ENV_PASSTHROUGH lists, and refuses Berth settings there', async () => {
    const runner = await startRunnerProcess({ FOO: 'passed-on', BAR: 'kept-back', JOB_ENV_PASSTHROUGH: 'FOO' });
    try {
      const id = await insertShellJob('env');
      expect((await waitForJob(id)).status).to.equal('success');
      const env = parseEnv(await jobOutput(id, 'stdout'));
      expect(env.get('FOO')).to.equal('passed-on');
      expect(env.has('BAR')).to.equal(false);
    } finally {
      await runner.stop();
    }
    const base = { DATABASE_URL: 'sqlite::memory:', SESSION_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: key() };
    expect(() => loadConfig({ env: { ...base, JOB_ENV_PASSTHROUGH: 'FOO,TZ,ENCRYPTION_OLD_KEYS,SESSION_SECRET_FILE' } }))
      .to.throw(/JOB_ENV_PASSTHROUGH: ENCRYPTION_OLD_KEYS, SESSION_SECRET_FILE are Berth settings, never passed to jobs/);
    expect(() => loadConfig({ env: { ...base, JOB_ENV_PASSTHROUGH: 'NOT A NAME' } })).to.throw(/JOB_ENV_PASSTHROUGH/);
  });

  it('adds the variables a task sets to the base, and nothing from the runner process itself', async () => {
    const name = `env-probe-${crypto.randomBytes(3).toString('hex')}`;
    registerTask({
      name,
      kind: 'exec',
      schema: z.object({}),
      argv: () => ['/usr/bin/env'],
      env: () => ({ PROBE: 'set-by-task' }),
      describe: () => name,
    });
    // An in-process runner: its own process.env (this mocha process) holds whatever the shell had.
    const runner = await startRunner({ env: { PATH: '/usr/bin:/bin' } });
    try {
      const job = await createJob({ command: name, task: name, params: '{}' });
      expect((await waitForJob(job.id)).status).to.equal('success');
      const env = parseEnv(await jobOutput(job.id, 'stdout'));
      expect(Object.fromEntries(env)).to.deep.equal({ PATH: '/usr/bin:/bin', PROBE: 'set-by-task' });
    } finally {
      await runner.close();
    }
  });
});
