// The simulator's notion of "now". It follows real time plus an adjustable offset, so tasks and
// uptimes move naturally while tests can jump ahead (e.g. 3 hours to expire every ticket).

/** Milliseconds since the epoch, shiftable in tests. */
export class SimClock {
  private offsetMs = 0;

  /** Current simulated time in ms. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Current simulated time in unix seconds. */
  seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Move the clock forward by `ms` (negative moves it back). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** Set the simulated time to `ms` since the epoch. */
  set(ms: number): void {
    this.offsetMs = ms - Date.now();
  }
}
