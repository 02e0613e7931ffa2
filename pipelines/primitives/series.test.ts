import { describe, expect, it } from 'vitest';
import { atTime, interp, lowerBound } from './series.js';

describe('series', () => {
  it('interpolates series by time and by fractional row', () => {
    const ts = Float64Array.from([0, 1000, 3000, 4000]);
    const v = Float64Array.from([0, 10, 30, 50]);
    expect(lowerBound(ts, 4, 1000)).toBe(1);
    expect(lowerBound(ts, 4, 1001)).toBe(2);
    expect(lowerBound(ts, 4, 9999)).toBe(4);
    expect(atTime(ts, v, 4, 2000)).toBe(20);
    expect(atTime(ts, v, 4, -5)).toBe(0);
    expect(atTime(ts, v, 4, 9999)).toBe(50);
    expect(interp(v, 2.25)).toBe(35);
    expect(interp(v, 3)).toBe(50);
  });

  it('lowerBound is the first of equal device times, and reads only [0, n)', () => {
    const ts = Float64Array.from([0, 1000, 1000, 1000, 2000, 0]);
    expect(lowerBound(ts, 5, 1000)).toBe(1);
    expect(lowerBound(ts, 5, 2001)).toBe(5);
    expect(lowerBound(ts, 0, 5)).toBe(0);
  });
});
