import { expect } from 'chai';
import { createAdminUser, createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { serve } from '../../support/browser.js';
import { testContext } from '../../support/context.js';
import { insertShellJob, jobOutput, startRunner, waitForJob } from '../../support/runner.js';
import { loginCookie, readSse } from '../../support/sse-client.js';

describe('GET /api/stream/:jobId (Server-Sent Events)', function () {
  this.timeout(60_000);
  const fixture = useApp({ JOB_STREAM_POLL_MS: '50' });

  it('replays a finished job and ends with its final status; headers for proxies', async () => {
    const site = await serve(fixture.app);
    try {
      const { user, password } = await createUser();
      const cookie = await loginCookie(site.url, user.username, password);
      const runner = await startRunner();
      const id = await insertShellJob('echo one; echo two >&2; exit 4', { createdBy: user.username });
      await waitForJob(id);
      await runner.close();
      const events: Array<{ event: string; id?: string; data: any }> = [];
      const res = await readSse(`${site.url}/api/stream/${id}`, { cookie }, (e) => void events.push({ ...e, data: JSON.parse(e.data) }));
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/event-stream/);
      expect(res.headers['x-accel-buffering']).to.equal('no');
      expect(res.headers['cache-control']).to.contain('no-cache');
      const output = events.filter((e) => e.event === 'output');
      expect(output.map((e) => [e.id, e.data.stream, e.data.output])).to.deep.equal([
        ['1', 'stdout', 'one\n'],
        ['2', 'stderr', 'two\n'],
      ]);
      const end = events[events.length - 1];
      expect(end.event).to.equal('end');
      expect(end.data).to.include({ status: 'failure', exitCode: 4, error: 'exited with code 4', lastSeq: 2 });
      // Resuming after the last event: nothing replayed, the end again.
      const again: string[] = [];
      await readSse(`${site.url}/api/stream/${id}`, { cookie, 'Last-Event-ID': '2' }, (e) => void again.push(e.event));
      expect(again.filter((e) => e === 'output')).to.deep.equal([]);
      expect(again[again.length - 1]).to.equal('end');
      // Authorization on every connect: another user gets 404.
      const other = await createUser();
      const res404 = await readSse(`${site.url}/api/stream/${id}`, { cookie: await loginCookie(site.url, other.user.username, other.password) }, () => {});
      expect(res404.status).to.equal(404);
    } finally {
      await site.close();
    }
  });

  it('disconnecting and reconnecting with Last-Event-ID many times during a chatty job loses and repeats nothing', async () => {
    const site = await serve(fixture.app);
    try {
      const { user, password } = await createAdminUser();
      const cookie = await loginCookie(site.url, user.username, password);
      const runner = await startRunner({ outputFlushMs: 20 });
      const id = await insertShellJob('for i in $(seq 1 3000); do echo "line $i"; [ $((i % 100)) -eq 0 ] && echo "err $i" >&2 && sleep 0.05; done; true', { createdBy: user.username });
      let received = '';
      let lastId: string | undefined;
      let connects = 0;
      let ended: any;
      while (!ended) {
        connects++;
        let taken = 0;
        const limit = 1 + (connects % 3);
        await readSse(`${site.url}/api/stream/${id}`, { cookie, ...(lastId ? { 'Last-Event-ID': lastId } : {}) }, (e) => {
          if (e.event === 'end') {
            ended = JSON.parse(e.data);
            return;
          }
          if (e.event !== 'output') return;
          const data = JSON.parse(e.data);
          expect(Number(e.id)).to.equal(lastId ? Number(lastId) + 1 : 1);
          received += data.output;
          lastId = e.id;
          if (++taken >= limit) return 'stop';
        });
        if (connects > 5000) throw new Error('too many reconnects');
      }
      await waitForJob(id);
      await runner.close();
      expect(ended.status).to.equal('success');
      expect(connects).to.be.greaterThan(10);
      const stored = await jobOutput(id);
      expect(received === stored, 'streamed output equals stored output').to.equal(true);
      expect(received.match(/^line \d+$/gm)).to.have.length(3000);
      expect(received.match(/^err \d+$/gm)).to.have.length(30);
    } finally {
      await site.close();
    }
  });

  it('follows a running job live and shares one database poll among many viewers', async () => {
    const site = await serve(fixture.app);
    try {
      const { user, password } = await createAdminUser();
      const cookie = await loginCookie(site.url, user.username, password);
      const runner = await startRunner({ outputFlushMs: 20 });
      const id = await insertShellJob('for i in $(seq 1 20); do echo "tick $i"; sleep 0.05; done', { createdBy: user.username });
      const { db } = testContext();
      let queries = 0;
      const original = db.sequelize.query.bind(db.sequelize);
      db.sequelize.query = ((...args: Parameters<typeof original>) => {
        const sql = typeof args[0] === 'string' ? args[0] : '';
        if (/FROM `?JobStatuses`?/.test(sql) && /seq/.test(sql)) queries++;
        return original(...args);
      }) as typeof original;
      try {
        const outputs = await Promise.all(
          Array.from({ length: 20 }, async () => {
            let text = '';
            await readSse(`${site.url}/api/stream/${id}`, { cookie }, (e) => {
              if (e.event === 'output') text += JSON.parse(e.data).output;
            });
            return text;
          }),
        );
        await waitForJob(id);
        const expected = Array.from({ length: 20 }, (_, i) => `tick ${i + 1}\n`).join('');
        for (const text of outputs) expect(text).to.equal(expected);
      } finally {
        db.sequelize.query = original;
        await runner.close();
      }
      // 20 viewers × ~1.5 s at a 50 ms poll would be ~600 polls each if every viewer polled.
      expect(queries).to.be.below(200);
    } finally {
      await site.close();
    }
  });
});
