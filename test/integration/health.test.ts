import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { createSequelize } from '../../src/lib/db/connect.js';
import { createLogger } from '../../src/lib/logger.js';
import { useApp } from '../support/app.js';
import { testContext } from '../support/context.js';

describe('health checks', () => {
  const fixture = useApp();

  it('GET /health answers ok without touching the database', async () => {
    const res = await request(fixture.app).get('/health').expect(200);
    expect(res.body).to.deep.equal({ status: 'ok' });
  });

  it('GET /health/ready checks the database', async () => {
    const res = await request(fixture.app).get('/health/ready').expect(200);
    expect(res.body.checks.database.ok).to.equal(true);
  });

  it('GET /health/ready answers 503 naming the database when it is unreachable', async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const unreachable = createSequelize({ dialect: 'mysql', host: '127.0.0.1', port: 9, username: 'x', password: 'x', database: 'x', url: '' });
    const { app, stop } = createApp({ config: fixture.config, logger: createLogger('silent'), sequelize: unreachable, models: testContext().db.models });
    try {
      const res = await request(app).get('/health/ready').expect(503);
      expect(res.body.status).to.equal('unavailable');
      expect(res.body.failing).to.deep.equal(['database']);
      expect(res.body.checks.database.error).to.be.a('string').and.not.empty;
      await request(app).get('/health').expect(200);
    } finally {
      stop();
      await unreachable.close();
    }
  });
});
