import { Writable } from 'node:stream';
import type { Express } from 'express';
import { createApp } from '../../../src/app.js';
import { createLogger } from '../../../src/lib/logger.js';
import { testConfig, testContext } from '../../support/context.js';
import { track } from '../../support/resources.js';

export interface BuiltApp {
  app: Express;
  logs: Array<Record<string, any>>;
  stop(): Promise<void>;
}

/**
 * A Berth app on the run's database with config overrides known only inside a test (the port of an
 * SMTP server or simulator started for it). Tracked: stop it before the test ends.
 */
export function buildApp(overrides: Record<string, string> = {}): BuiltApp {
  const logs: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const { db } = testContext();
  const config = testConfig(testContext().scratch.url, { LOG_LEVEL: 'info', ...overrides });
  const built = createApp({ config, logger: createLogger(config.LOG_LEVEL, sink), sequelize: db.sequelize, models: db.models });
  const stop = track('berth app (accounts test)', () => built.stop());
  return { app: built.app, logs, stop };
}

/** Config overrides that point Berth's mail at a local test SMTP server. */
export const smtpEnv = (port: number): Record<string, string> => ({
  SMTP_HOST: '127.0.0.1',
  SMTP_PORT: String(port),
  SMTP_SECURE: 'none',
  MAIL_FROM: 'Berth <berth@test.invalid>',
  PUBLIC_URL: 'https://berth.example.org',
});
