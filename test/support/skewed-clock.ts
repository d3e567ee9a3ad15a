// Preloaded into a real runner process (`node --import`, see skewedClockArgs) to give it a host clock
// that is off by BERTH_TEST_CLOCK_SKEW_SECONDS: `Date.now()` and `new Date()` are shifted, timers and
// performance.now() are not, exactly as on a host whose wall clock is wrong.
const skewMs = Number(process.env.BERTH_TEST_CLOCK_SKEW_SECONDS ?? 0) * 1000;

if (skewMs) {
  const RealDate = Date;
  const skewedNow = () => RealDate.now() + skewMs;
  // A Proxy rather than a subclass: `Date()` called without `new` and `x instanceof Date` keep working.
  globalThis.Date = new Proxy(RealDate, {
    construct: (target, args, newTarget) => Reflect.construct(target, args.length ? args : [skewedNow()], newTarget),
    apply: () => new RealDate(skewedNow()).toString(),
    get: (target, property, receiver) => (property === 'now' ? skewedNow : Reflect.get(target, property, receiver)),
  });
}

/** Node arguments and environment that start a runner process whose clock is `seconds` off. */
export function skewedClock(seconds: number): { nodeArgs: string[]; env: Record<string, string> } {
  return {
    nodeArgs: ['--import', import.meta.url],
    env: { BERTH_TEST_CLOCK_SKEW_SECONDS: String(seconds) },
  };
}
