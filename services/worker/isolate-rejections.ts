/**
 * Writes `items`; when the write is refused for good (`isRejection(err)`: a value the server will not
 * store), writes them in halves, recursively, until each refused item stands alone, and returns those
 * with the error that refused them, in item order. Any other error is thrown (the caller retries the
 * whole write). One bad item in n costs about 2·log2(n) extra writes, so `write` must be idempotent:
 * the good halves are written again. `onSplit` is told of each split (logs, metrics).
 *
 * The one bisection of the worker: a flush's records into a sink that isolates rejections
 * (worker.ts) and a finalisation round's activity writes (sessions.ts).
 */
export async function isolateRejections<T, E>(
  items: readonly T[],
  write: (items: readonly T[]) => Promise<void>,
  isRejection: (err: unknown) => err is E,
  onSplit?: (err: E, items: number) => void,
): Promise<{ item: T; error: E }[]> {
  const refused: { item: T; error: E }[] = [];
  const go = async (part: readonly T[]): Promise<void> => {
    try {
      await write(part);
    } catch (err) {
      if (!isRejection(err)) throw err;
      if (part.length === 1) {
        refused.push({ item: part[0]!, error: err });
        return;
      }
      onSplit?.(err, part.length);
      const mid = part.length >>> 1;
      await go(part.slice(0, mid));
      await go(part.slice(mid));
    }
  };
  await go(items);
  return refused;
}
