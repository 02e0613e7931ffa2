/**
 * Retries `f` with capped exponential back-off (initialMs, doubling, at most maxMs) until it resolves.
 * `giveUp(err)` true: the error is thrown instead (a retry will not help, or the caller is stopping).
 * `beforeWait(err, delayMs)` runs after each failure and before the wait (log, count, heartbeat).
 * The one back-off of the worker: sinks, the registry, finalisation, the sweep and the look-ups all
 * wait this way.
 */
export async function retryWithBackoff<T>(
  f: () => Promise<T>,
  o: {
    maxMs: number;
    initialMs?: number;
    giveUp?: (err: unknown) => boolean;
    beforeWait?: (err: unknown, delayMs: number) => void | Promise<void>;
  },
): Promise<T> {
  let delay = o.initialMs ?? 100;
  for (;;) {
    try {
      return await f();
    } catch (err) {
      if (o.giveUp?.(err)) throw err;
      await o.beforeWait?.(err, delay);
      await new Promise<void>((r) => setTimeout(r, delay));
      delay = Math.min(o.maxMs, delay * 2);
    }
  }
}
