import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { testConfig, testContext } from '../support/context.js';

describe('public rate limit', () => {
  it('allows RATE_LIMIT_MAX requests per IP, counted across instances, then 429', async () => {
    const { db, scratch } = testContext();
    await db.models.RateLimit.destroy({ where: {} });
    const config = testConfig(scratch.url, { RATE_LIMIT_MAX: '3' });
    // Two app instances on one database: they share the counter.
    const a = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
    const b = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
    try {
      await request(a.app).get('/login').expect(200);
      await request(b.app).get('/login').expect(200);
      await request(a.app).get('/login').expect(200);
      const limited = await request(b.app).get('/login').set('Accept', 'application/json').expect(429);
      expect(limited.body.error).to.match(/Too many requests: at most 3 per 15 minutes/);
      expect(limited.headers.ratelimit).to.match(/r=0/);
      // Health checks are not rate limited.
      await request(a.app).get('/health').expect(200);
      const row = await db.models.RateLimit.findOne();
      expect(row?.hits).to.equal(4);
    } finally {
      a.stop();
      b.stop();
    }
  });

  it('does not trust X-Forwarded-For unless TRUST_PROXY says so', async () => {
    const { db, scratch } = testContext();
    await db.models.RateLimit.destroy({ where: {} });
    const config = testConfig(scratch.url, { RATE_LIMIT_MAX: '1' });
    const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
    try {
      await request(app).get('/login').set('X-Forwarded-For', '203.0.113.1').expect(200);
      // A spoofed header does not give the same client a fresh counter.
      await request(app).get('/login').set('X-Forwarded-For', '203.0.113.2').expect(429);
    } finally {
      stop();
    }
  });
});
