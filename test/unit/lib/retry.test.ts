import { expect } from 'chai';
import { Backoff, sleep } from '../../../src/lib/retry.js';

describe('lib/retry: backoff delays and an abortable sleep', () => {
  it('doubles from the first delay up to the ceiling, and starts over after reset()', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 500 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).to.deep.equal([100, 200, 400, 500, 500]);
    b.reset();
    expect(b.next()).to.equal(100);
  });

  it('takes at most the jitter fraction off each delay, never adding to it', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5 });
    const delays = Array.from({ length: 200 }, () => b.next());
    expect(Math.min(...delays)).to.be.at.least(500);
    expect(Math.max(...delays)).to.be.at.most(1000);
    expect(new Set(delays).size, 'delays vary').to.be.greaterThan(1);
  });

  it('sleeps, and rejects with the reason as soon as the signal aborts', async () => {
    const t0 = Date.now();
    await sleep(20);
    expect(Date.now() - t0).to.be.at.least(15);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 10);
    const started = Date.now();
    const err = await sleep(10_000, controller.signal).then(() => null, (e: unknown) => e);
    expect((err as Error).message).to.equal('stop');
    expect(Date.now() - started).to.be.below(1000);
    const aborted = AbortSignal.abort(new Error('already'));
    expect(((await sleep(10, aborted).catch((e: unknown) => e)) as Error).message).to.equal('already');
  });
});
