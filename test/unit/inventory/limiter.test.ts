// The limiter of the sync's machine reads (src/inventory/sync.ts): never more than `max` at once,
// even for a caller that arrives while a finishing function hands its slot to a waiter.
import { expect } from 'chai';
import { limiter } from '../../../src/inventory/sync.js';

/** Lets every queued microtask (and those they queue, `turns` deep) run. */
async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await null;
}

describe('inventory sync: limiter', () => {
  it('a caller arriving while a slot is handed to a waiter waits its turn (never more than max at once)', async () => {
    // The arrival is tried at every microtask depth around the hand-over, so one of them falls between
    // the finishing function's `finally` and the waiter's resumption.
    for (let depth = 0; depth < 8; depth++) {
      const limit = limiter(2);
      let running = 0;
      let peak = 0;
      const started: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const never = new Promise<void>(() => {});
      const task = (name: string, wait: Promise<void>) => () => {
        started.push(name);
        running++;
        peak = Math.max(peak, running);
        return wait.then(() => { running--; });
      };
      void limit(task('a', gate));
      void limit(task('b', never));
      void limit(task('waiter', never));
      let arrival: Promise<void> = gate;
      for (let i = 0; i < depth; i++) arrival = arrival.then(() => {});
      void arrival.then(() => limit(task('late', never)));
      release();
      await settle();
      expect(peak, `arrival ${depth} microtasks after the release`).to.equal(2);
      expect(started, `arrival ${depth}: the waiter gets the slot`).to.deep.equal(['a', 'b', 'waiter']);
    }
  });

  it('runs every function, at most max at once, in the order given', async () => {
    const limit = limiter(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => limit(async () => {
      order.push(i);
      running++;
      peak = Math.max(peak, running);
      await settle(i % 4);
      running--;
      return i * 2;
    })));
    expect(results).to.deep.equal(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(order).to.deep.equal(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).to.equal(3);
  });
});
