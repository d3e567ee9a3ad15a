import { expect } from 'chai';
import { Op } from 'sequelize';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { randomIp } from '../factories/inventory.js';
import { testConfig, testContext } from '../support/context.js';

describe('public rate limit', () => {
  it('allows RATE_LIMIT_MAX requests per IP, counted across instances, then 429', async () => {
    const { db, scratch } = testContext();
    // A client address of this test alone (through a trusted proxy): other tests' requests count
    // against the loopback address in the same shared table.
    const client = randomIp();
    const config = testConfig(scratch.url, { RATE_LIMIT_MAX: '3', TRUST_PROXY: 'loopback' });
    // Two app instances on one database: they share the counter.
    const a = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
    const b = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
    const get = (app: typeof a.app, path: string) => request(app).get(path).set('X-Forwarded-For', client);
    try {
      await get(a.app, '/login').expect(200);
      await get(b.app, '/login').expect(200);
      await get(a.app, '/login').expect(200);
      const limited = await get(b.app, '/login').set('Accept', 'application/json').expect(429);
      expect(limited.body.error).to.match(/Too many requests: at most 3 per 15 minutes/);
      expect(limited.headers.ratelimit).to.match(/r=0/);
      // Health checks are not rate limited.
      await get(a.app, '/health').expect(200);
      const row = await db.models.RateLimit.findByPk(`public:${client}`);
      expect(row?.hits).to.equal(4);
    } finally {
      a.stop();
      b.stop();
    }
  });

  it('does not trust X-Forwarded-For unless TRUST_PROXY says so', async () => {
    const { db, scratch } = testContext();
    // Without a trusted proxy the client is the loopback address, whose counter every other test
    // shares: reset that one key, not the table.
    await db.models.RateLimit.destroy({ where: { key: { [Op.like]: 'public:%127.0.0.1' } } });
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
