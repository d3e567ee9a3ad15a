import { expect } from 'chai';
import request from 'supertest';
import { useApp } from '../support/app.js';

describe('HTTP errors and hardening', () => {
  const fixture = useApp({ BODY_LIMIT_KB: '4' });

  it('answers an unknown route with 404, as JSON or as a page', async () => {
    const json = await request(fixture.app).get('/no/such/page').set('Accept', 'application/json').expect(404);
    expect(json.body.error).to.equal('No page at /no/such/page.');
    const html = await request(fixture.app).get('/no/such/page').set('Accept', 'text/html').expect(404);
    expect(html.text).to.contain('404 · Not found');
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const res = await request(fixture.app).put('/health').set('Accept', 'application/json').expect(405);
    expect(res.headers.allow).to.equal('GET');
    expect(res.body.error).to.match(/PUT is not supported on \/health/);
  });

  it('rejects malformed JSON with 400, logged with the request id', async () => {
    const res = await request(fixture.app).post('/login').set('Content-Type', 'application/json').send('{"username": ').expect(400);
    expect(res.body.error).to.equal('The request body is not valid JSON.');
    const requestId = res.headers['x-request-id'];
    expect(requestId).to.match(/^[0-9a-f-]{36}$/);
    expect(res.body.requestId).to.equal(requestId);
    const line = fixture.logs.find((l) => l.req?.id === requestId && l.msg === 'request rejected');
    expect(line, 'a log line with the request id').to.exist;
    expect(JSON.stringify(res.body)).not.to.match(/at .*\.(js|ts):\d+/);
  });

  it('rejects an oversized body with 413', async () => {
    const res = await request(fixture.app)
      .post('/login')
      .set('Accept', 'application/json')
      .send({ username: 'x'.repeat(10_000), password: 'y' })
      .expect(413);
    expect(res.body.error).to.equal('The request body is too large.');
  });

  it('refuses a state-changing request without a valid CSRF token with 403', async () => {
    const missing = await request(fixture.app).post('/logout').set('Accept', 'application/json').expect(403);
    expect(missing.body.error).to.match(/CSRF token/);
    const agent = request.agent(fixture.app);
    await agent.get('/login').expect(200);
    const wrong = await agent.post('/logout').set('Accept', 'application/json').set('X-CSRF-Token', 'forged').expect(403);
    expect(wrong.body.error).to.match(/CSRF token/);
  });

  it('keeps a well-formed incoming X-Request-Id and replaces a hostile one', async () => {
    const kept = await request(fixture.app).get('/health').set('X-Request-Id', 'edge-1234.abc');
    expect(kept.headers['x-request-id']).to.equal('edge-1234.abc');
    const replaced = await request(fixture.app).get('/health').set('X-Request-Id', 'x"><script>alert(1)</script>');
    expect(replaced.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });

  it('sends a CSP without unsafe-inline and hardening headers on pages', async () => {
    const res = await request(fixture.app).get('/login');
    const csp = res.headers['content-security-policy'];
    expect(csp).to.contain("script-src 'self'").and.contain("style-src 'self'").and.contain("frame-ancestors 'none'");
    expect(csp).not.to.contain('unsafe-inline');
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['x-powered-by']).to.equal(undefined);
  });

  it('sets the session cookie HttpOnly and SameSite=Lax', async () => {
    const res = await request(fixture.app).get('/login');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).to.match(/berth\.sid=/).and.match(/HttpOnly/).and.match(/SameSite=Lax/);
  });
});
