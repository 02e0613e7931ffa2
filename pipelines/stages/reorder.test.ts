import { describe, expect, it } from 'vitest';
import { sample, T0 } from '../../test/support/samples.js';
import { columnsFromSamples } from '../columns.js';
import { SessionAccumulator } from '../session-accumulator.js';
import { FLAG_LATE } from '../types.js';
import { findIdentity, insertionPoint, ReorderWindow } from './reorder.js';

const acc = () =>
  new SessionAccumulator({
    userId: 'u',
    deviceId: 'd',
    sessionId: 's',
    sport: 'running',
    reorderWindowMs: 10_000,
  });

describe('reorder', () => {
  it('a sample is late only when older than the window behind the newest one', () => {
    const w = new ReorderWindow(10_000);
    expect(w.isLate(T0)).toBe(false);
    w.observe(T0 + 30_000);
    w.observe(T0 + 5_000); // older arrivals never move the window back
    expect(w.watermark()).toBe(T0 + 20_000);
    expect(w.isLate(T0 + 20_000)).toBe(false);
    expect(w.isLate(T0 + 19_999)).toBe(true);
  });

  it('inserts out-of-order rows in canonical order and after equal rows', () => {
    const { columns: c } = columnsFromSamples([sample(0), sample(2), sample(2, { seq: 5 }), sample(4)]);
    const { columns: src } = columnsFromSamples([sample(3), sample(9), sample(2, { seq: 7 }), sample(-1)]);
    expect(insertionPoint(c, src, 0)).toBe(3);
    expect(insertionPoint(c, src, 1)).toBe(4);
    expect(insertionPoint(c, src, 2)).toBe(3);
    expect(insertionPoint(c, src, 3)).toBe(0);
  });

  it('finds an identity by seq at the same time, or anywhere (re-sent with another clock)', () => {
    const { columns: c } = columnsFromSamples([sample(0), sample(1), sample(2)]);
    const { columns: src } = columnsFromSamples([sample(1), sample(7, { seq: 2 }), sample(5, { seq: 9 })]);
    expect(findIdentity(c, src, 0, true)).toBe(1);
    expect(findIdentity(c, src, 1, true)).toBe(2);
    expect(findIdentity(c, src, 2, false)).toBe(-1);
    // the seq set says the seq was never seen: no scan at all
    expect(findIdentity(c, src, 1, false)).toBe(-1);
  });

  it('accumulator: reorders inside the window silently, merges and flags older arrivals as late', () => {
    const a = acc();
    let r = a.add([0, 1, 2, 5, 4, 3].map((i) => sample(i, { hr: 100 + i })));
    expect(r).toMatchObject({ accepted: 6, late: 0, duplicates: 0 });
    expect(a.needsRecompute).toBe(false);
    r = a.add([sample(20), sample(15), sample(9)]);
    // newest is 20 s: 15 s is inside the 10 s window, 9 s is 11 s behind
    expect(r).toMatchObject({ accepted: 3, late: 1 });
    expect(a.needsRecompute).toBe(true);
    const c = a.columns();
    expect([...c.seq.subarray(0, c.length)]).toEqual([0, 1, 2, 3, 4, 5, 9, 15, 20]);
    expect([...c.flags.subarray(0, c.length)].map((f) => f & FLAG_LATE)).toEqual([0, 0, 0, 0, 0, 0, 2, 0, 0]);
    // a replay is a duplicate, not a late sample
    expect(a.add([sample(2, { hr: 102 })])).toMatchObject({ accepted: 0, duplicates: 1, late: 0 });
    a.compute({});
    expect(a.needsRecompute).toBe(false);
  });

  it('accumulator: the late row reaches the computed result', () => {
    const a = acc();
    a.add([sample(30, { hr: 150 })]);
    a.add([sample(0, { hr: 150 })]);
    const s = a.compute({}).summary;
    expect(s.startTs).toBe(T0);
    expect(s.elapsedS).toBe(30);
  });
});
