import { describe, expect, it } from 'vitest';
import { repeat, trackFromSpeeds } from '../../test/support/samples.js';
import { MILE_M, rangeStats, splits } from './splits.js';

describe('splits', () => {
  it('splits 3 km at 4 m/s into three 1 km splits of 250 s', () => {
    const s = splits(trackFromSpeeds(repeat(4, 750)), 1000);
    expect(s.map((x) => x.distanceM)).toEqual([1000, 1000, 1000]);
    expect(s.map((x) => x.elapsedS)).toEqual([250, 250, 250]);
    expect(s.map((x) => x.paceSPerKm)).toEqual([250, 250, 250]);
  });

  it('pace per split follows the speed of each kilometre', () => {
    // 2 km at 4 m/s, then 1 km at 2.5 m/s
    const s = splits(trackFromSpeeds([...repeat(4, 500), ...repeat(2.5, 400)]), 1000);
    expect(s.map((x) => x.paceSPerKm)).toEqual([250, 250, 400]);
    expect(s[2]!.avgSpeedMps).toBe(2.5);
  });

  it('places a boundary between rows by interpolation, so split times add up', () => {
    // 3 m/s: 1000 m is crossed a third of the way through the interval 333→334
    const t = trackFromSpeeds(repeat(3, 700));
    const s = splits(t, 1000);
    expect(s).toHaveLength(3);
    expect(s[0]!.elapsedS).toBeCloseTo(1000 / 3, 6);
    expect(s[1]!.elapsedS).toBeCloseTo(1000 / 3, 6);
    // the remainder: 100 m
    expect(s[2]!.distanceM).toBeCloseTo(100, 9);
    expect(s[2]!.elapsedS).toBeCloseTo(100 / 3, 6);
    expect(s.reduce((a, x) => a + x.elapsedS, 0)).toBeCloseTo(700, 6);
  });

  it('splits by the mile at 1609.344 m', () => {
    const s = splits(trackFromSpeeds(repeat(4, 1000)), MILE_M);
    expect(s.map((x) => x.index)).toEqual([0, 1, 2]);
    expect(s[0]!.distanceM).toBeCloseTo(MILE_M, 9);
    expect(s[0]!.elapsedS).toBeCloseTo(MILE_M / 4, 6);
    expect(s[1]!.elapsedS).toBeCloseTo(MILE_M / 4, 6);
    expect(s[2]!.distanceM).toBeCloseTo(4000 - 2 * MILE_M, 9);
  });

  it('drops a remainder under 1 m, and a session under 2 rows has no splits', () => {
    expect(splits(trackFromSpeeds([...repeat(4, 250), 0.5]), 1000)).toHaveLength(1);
    expect(splits(trackFromSpeeds([...repeat(4, 250), 1.5]), 1000)).toHaveLength(2);
    expect(splits(trackFromSpeeds([]), 1000)).toEqual([]);
  });

  it('moving time excludes paused intervals; HR and elevation are per split', () => {
    const t = trackFromSpeeds(repeat(5, 400), {
      hr: Array.from({ length: 401 }, (_, i) => (i <= 200 ? 140 : 160)),
      // climbs 20 m over the first km, descends 10 m over the second
      alt: Array.from({ length: 401 }, (_, i) => (i <= 200 ? 100 + i / 10 : 120 - (i - 200) / 20)),
    });
    // the athlete stands 20 s inside km 2 (moving time frozen)
    for (let i = 250; i <= 400; i++) t.moving[i] = t.moving[i]! - Math.min(20, i - 250);
    const [a, b] = splits(t, 1000);
    expect(a!.avgHr).toBe(140);
    expect(b!.avgHr).toBeCloseTo((140 + 200 * 160) / 201, 9);
    expect(a!.elevGainM).toBeCloseTo(20, 5);
    expect(a!.elevLossM).toBe(0);
    expect(b!.elevLossM).toBeCloseTo(10, 5);
    expect(b!.elapsedS).toBe(200);
    expect(b!.movingS).toBe(180);
    expect(b!.paceSPerKm).toBe(180);
  });

  it('rangeStats between fractional rows', () => {
    const r = rangeStats(trackFromSpeeds(repeat(2, 10)), 2.5, 7.5);
    expect(r.elapsedS).toBe(5);
    expect(r.distanceM).toBe(10);
    expect(r.avgHr).toBeNull();
  });
});
