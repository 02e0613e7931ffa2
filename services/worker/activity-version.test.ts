import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { activityVersion, algorithmOrdinal, RAW_BASE, rawSampleVersion } from './activity-version.js';

describe('activity versions', () => {
  test('ordinal of YYYY.MM-N', () => {
    expect(algorithmOrdinal('2026.11-1')).toBe(20261101);
    expect(algorithmOrdinal('2027.01-12')).toBe(20270112);
    expect(algorithmOrdinal('nonsense')).toBe(0);
  });

  test('more data or a newer algorithm always gives a bigger version; same data the same', () => {
    fc.assert(
      fc.property(fc.nat(999_998), fc.nat(999_998), (a, b) => {
        const va = activityVersion(a, '2026.11-1');
        expect(activityVersion(a, '2026.11-1')).toBe(va);
        if (a < b) expect(activityVersion(b, '2026.11-1')).toBeGreaterThan(va);
        expect(activityVersion(b, '2026.12-1')).toBeGreaterThan(va);
        expect(Number.isSafeInteger(activityVersion(b, '2099.12-99'))).toBe(true);
      }),
    );
  });

  test('among raw copies of a sample the earliest device time wins', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000_000 }), (ts) => {
        expect(rawSampleVersion(ts)).toBeLessThan(RAW_BASE + 1);
        expect(rawSampleVersion(ts)).toBeGreaterThan(rawSampleVersion(ts + 1));
        // what migration 0021 writes for the rows it copies
        expect(rawSampleVersion(ts)).toBe(4398046511104 - ts);
      }),
    );
  });
});
