/**
 * The one backoff rule: a first delay, multiplied after each failure up to a ceiling, back to the
 * first after a success, optionally with jitter; and a sleep an abort signal can end. Each retrying
 * loop (the job runner's claim, output and final writes, Proxmox task waits) keeps its own decision
 * of what to retry and when to give up; the delays come from here.
 */

export interface BackoffOptions {
  /** The first delay. */
  initialMs: number;
  /** The ceiling no delay exceeds. */
  maxMs: number;
  /** How much each failure multiplies the delay by; 2 unless given. */
  factor?: number;
  /**
   * A fraction (0–1) of each delay drawn at random and taken off it, so that processes which failed
   * together (a database restart) do not all come back at the same moment. 0 (none) unless given.
   */
  jitter?: number;
}

/** The delays of one retrying loop. */
export class Backoff {
  private current: number;

  constructor(private readonly options: BackoffOptions) {
    this.current = options.initialMs;
  }

  /** The delay to wait now; the next one grows by `factor` up to `maxMs`. */
  next(): number {
    const delay = this.current;
    this.current = Math.min(this.current * (this.options.factor ?? 2), this.options.maxMs);
    const jitter = this.options.jitter ?? 0;
    return jitter > 0 ? Math.round(delay * (1 - jitter * Math.random())) : delay;
  }

  /** After a success: the next failure waits the first delay again. */
  reset(): void {
    this.current = this.options.initialMs;
  }
}

/** Waits `ms`; rejects with the signal's reason as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
