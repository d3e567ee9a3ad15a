import { Writable } from 'node:stream';
import type { Express } from 'express';
import type { Config } from '../../config/index.js';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { testConfig, testContext } from './context.js';

export interface AppFixture {
  app: Express;
  config: Config;
  /** JSON log lines the app wrote during the test file. */
  logs: Array<Record<string, any>>;
}

/**
 * Builds a Berth app on the run's database for the enclosing describe(): created in before(),
 * stopped in after(). `overrides` are extra config variables.
 */
export function useApp(overrides: Record<string, string> = {}): AppFixture {
  const fixture = { logs: [] } as unknown as AppFixture;
  let stop: (() => Promise<void>) | undefined;
  before(() => {
    const { db } = testContext();
    const config = testConfig(testContext().scratch.url, { LOG_LEVEL: 'info', ...overrides });
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n')) if (line) fixture.logs.push(JSON.parse(line));
        done();
      },
    });
    const built = createApp({ config, logger: createLogger(config.LOG_LEVEL, sink), sequelize: db.sequelize, models: db.models });
    fixture.app = built.app;
    fixture.config = config;
    stop = built.stop;
  });
  after(() => stop?.());
  return fixture;
}
