import http from 'node:http';
import { expect } from 'chai';
import request from 'supertest';
import { createUser } from '../factories/users.js';
import { testContext } from '../support/context.js';
import { csrfFrom, sessionCookie } from '../support/login.js';
import { startServerProcess } from '../support/processes.js';

describe('several app instances on one database', function () {
  this.timeout(60_000);

  it('share sessions: log in on one instance, use the cookie on the other', async () => {
    const { user, password } = await createUser();
    const env = { DATABASE_URL: testContext().scratch.url, SESSION_SECRET: 'shared-secret-for-both-instances-0123456789' };
    const [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    try {
      const page = await request(a.url).get('/login');
      const cookie = sessionCookie(page.headers['set-cookie'])!;
      const loggedIn = await request(a.url)
        .post('/login')
        .set('Cookie', cookie)
        .type('form')
        .send({ username: user.username, password, _csrf: csrfFrom(page.text) })
        .expect(303);
      const loginCookie = sessionCookie(loggedIn.headers['set-cookie'])!;
      const onB = await request(b.url).get('/').set('Cookie', loginCookie).expect(200);
      expect(onB.text).to.contain(user.username);
      // And the session survives a restart of the instance that created it.
      expect(await a.stop()).to.equal(0);
      await request(b.url).get('/').set('Cookie', loginCookie).expect(200);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('finishes in-flight requests on SIGTERM, then exits 0', async () => {
    const server = await startServerProcess({ DATABASE_URL: testContext().scratch.url, SESSION_SECRET: 'another-shared-secret-0123456789abcdef' });
    try {
      // A request whose body is still arriving when SIGTERM comes is in flight: it must be answered.
      const { port } = new URL(server.url);
      const body = JSON.stringify({ username: 'nobody', password: 'x'.repeat(200) });
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/login', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Accept: 'application/json' } });
      const answered = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
        req.on('error', reject);
      });
      req.write(body.slice(0, 20));
      await new Promise((r) => setTimeout(r, 300));
      const code = server.stop();
      await new Promise((r) => setTimeout(r, 300));
      req.end(body.slice(20));
      expect(await answered).to.equal(403); // answered (no CSRF token), not dropped
      expect(await code).to.equal(0);
      expect(server.lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).to.equal(true);
    } finally {
      await server.stop();
    }
  });
});
