import { describe, expect, it } from 'vitest';
import { emptySample } from '../../schemas/sample.js';
import type { Sample } from '../../schemas/types.js';
import { columnsFromSamples } from '../columns.js';
import { sortAndDedupe } from './dedupe.js';

const s = (ts: number, seq: number | null, hr = 100): Sample => ({ ...emptySample(ts, seq), hr });

describe('dedupe', () => {
  it('keeps one row per seq, in time order, whatever the arrival order', () => {
    const T = 1_760_000_000_000;
    const { columns } = columnsFromSamples([
      s(T + 2000, 2),
      s(T, 0),
      s(T + 1000, 1),
      s(T, 0),
      s(T + 2000, 2),
    ]);
    const r = sortAndDedupe(columns);
    expect(r.duplicates).toBe(2);
    expect([...r.columns.seq.subarray(0, r.columns.length)]).toEqual([0, 1, 2]);
  });

  it('falls back to device time without seq, and picks the canonical copy of a conflicting seq', () => {
    const T = 1_760_000_000_000;
    const a = sortAndDedupe(
      columnsFromSamples([s(T, null, 120), s(T, null, 110), s(T + 1000, null)]).columns,
    );
    expect(a.columns.length).toBe(2);
    expect(a.columns.hr[0]).toBe(110);
    const b = sortAndDedupe(columnsFromSamples([s(T + 5000, 7), s(T + 1000, 7)]).columns);
    expect(b.columns.length).toBe(1);
    expect(b.columns.ts[0]).toBe(T + 1000);
  });
});
