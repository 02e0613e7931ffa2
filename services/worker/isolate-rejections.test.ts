import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isolateRejections } from './isolate-rejections.js';

class Refused extends Error {}
const isRefused = (e: unknown): e is Refused => e instanceof Refused;

/** A store that refuses any write holding a bad item and keeps what it accepted (idempotent: a set). */
function store(bad: ReadonlySet<number>) {
  const kept = new Set<number>();
  let writes = 0;
  return {
    kept,
    writes: () => writes,
    async write(items: readonly number[]) {
      writes++;
      const b = items.find((i) => bad.has(i));
      if (b !== undefined) throw new Refused(`refused ${b}`);
      for (const i of items) kept.add(i);
    },
  };
}

describe('isolateRejections', () => {
  test('every good item is stored, exactly the bad ones are returned in order, with their error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 200 }), fc.array(fc.nat(220)), async (n, badList) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const bad = new Set(badList.filter((b) => b < n));
        const s = store(bad);
        const refused = await isolateRejections(items, (xs) => s.write(xs), isRefused);
        expect(refused.map((r) => r.item)).toEqual(items.filter((i) => bad.has(i)));
        for (const r of refused) expect(r.error.message).toBe(`refused ${r.item}`);
        expect([...s.kept].sort((a, b) => a - b)).toEqual(items.filter((i) => !bad.has(i)));
      }),
    );
  });

  test('one bad item in 1024 costs about 2·log2(n) writes; none costs one', async () => {
    const items = Array.from({ length: 1024 }, (_, i) => i);
    const one = store(new Set([700]));
    const splits: number[] = [];
    await isolateRejections(
      items,
      (xs) => one.write(xs),
      isRefused,
      (_e, k) => splits.push(k),
    );
    expect(one.writes()).toBe(1 + 2 * 10);
    expect(splits).toEqual([1024, 512, 256, 128, 64, 32, 16, 8, 4, 2]);
    const none = store(new Set());
    expect(await isolateRejections(items, (xs) => none.write(xs), isRefused)).toEqual([]);
    expect(none.writes()).toBe(1);
  });

  test('an error that is not a rejection is thrown, not isolated', async () => {
    const down = new Error('unavailable');
    await expect(
      isolateRejections(
        [1, 2, 3],
        async () => {
          throw down;
        },
        isRefused,
      ),
    ).rejects.toBe(down);
  });
});
