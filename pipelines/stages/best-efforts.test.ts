import { describe, expect, it } from 'vitest';
import { repeat, T0, trackFromSpeeds } from '../../test/support/samples.js';
import { bestEfforts } from './best-efforts.js';

describe('best efforts', () => {
  it('finds the 400 m and 1 km efforts around a known fast segment', () => {
    // 400 m at 4 m/s, 400 m at 8 m/s (rows 100..150), 1200 m at 4 m/s
    const t = trackFromSpeeds([...repeat(4, 100), ...repeat(8, 50), ...repeat(4, 300)]);
    const e = bestEfforts(t, 'running');
    expect(e.map((x) => x.name)).toEqual(['400 m', '1 km', '1 mile']);
    const [m400, km, mile] = e;
    expect(m400).toMatchObject({ kind: 'distance', distanceM: 400, durationS: 50, startTs: T0 + 100_000 });
    expect(m400!.endTs).toBe(T0 + 150_000);
    expect(m400!.avgSpeedMps).toBe(8);
    // the fast 400 m plus 600 m at 4 m/s
    expect(km!.durationS).toBe(50 + 150);
    // a mile: 400 m fast + 1209.344 m at 4 m/s
    expect(mile!.durationS).toBeCloseTo(50 + 1209.344 / 4, 6);
  });

  it('interpolates the start between rows', () => {
    // 3 m/s: 400 m is 133.33 s, so the start lies a third of the way into an interval
    const e = bestEfforts(trackFromSpeeds(repeat(3, 200)), 'walking');
    expect(e[0]!.durationS).toBeCloseTo(400 / 3, 6);
  });

  it('omits distances longer than the session, and strength has none', () => {
    expect(bestEfforts(trackFromSpeeds(repeat(4, 50)), 'running')).toEqual([]);
    expect(bestEfforts(trackFromSpeeds(repeat(4, 500)), 'strength')).toEqual([]);
  });

  it('cycling: best 5 and 20 min average speed and power', () => {
    // 10 min at 8 m/s / 200 W, 5 min at 12 m/s / 300 W, 10 min at 8 m/s / 200 W
    const speeds = [...repeat(8, 600), ...repeat(12, 300), ...repeat(8, 600)];
    const power = [0, ...repeat(200, 600), ...repeat(300, 300), ...repeat(200, 600)];
    const e = bestEfforts(trackFromSpeeds(speeds, { power }), 'cycling');
    expect(e.map((x) => x.name)).toEqual(['5 s', '1 min', '5 min', '20 min']);
    const [, , five, twenty] = e;
    expect(five).toMatchObject({ kind: 'duration', durationS: 300, distanceM: 3600, avgSpeedMps: 12 });
    expect(five!.avgPowerW).toBe(300);
    expect(five!.startTs).toBe(T0 + 600_000);
    expect(twenty!.distanceM).toBe(3600 + 900 * 8);
    expect(twenty!.avgPowerW).toBe((300 * 300 + 900 * 200) / 1200);
  });

  it('cycling: best 5 s and 1 min (a sprint), the longer windows as before', () => {
    // 5 min at 8 m/s / 200 W, a 10 s sprint at 15 m/s / 900 W, 5 min at 8 m/s / 200 W
    const speeds = [...repeat(8, 300), ...repeat(15, 10), ...repeat(8, 300)];
    const power = [0, ...repeat(200, 300), ...repeat(900, 10), ...repeat(200, 300)];
    const e = bestEfforts(trackFromSpeeds(speeds, { power }), 'cycling');
    expect(e.map((x) => x.name)).toEqual(['5 s', '1 min', '5 min']);
    const [sprint, minute, five] = e;
    expect(sprint).toMatchObject({
      kind: 'duration',
      durationS: 5,
      distanceM: 75,
      avgSpeedMps: 15,
      avgPowerW: 900,
    });
    expect(sprint!.startTs).toBeGreaterThanOrEqual(T0 + 300_000);
    expect(sprint!.endTs).toBeLessThanOrEqual(T0 + 310_000);
    expect(minute!.durationS).toBe(60);
    expect(minute!.distanceM).toBeCloseTo(10 * 15 + 50 * 8, 9);
    expect(minute!.avgPowerW).toBeCloseTo((10 * 900 + 50 * 200) / 60, 9);
    expect(five!.distanceM).toBeCloseTo(10 * 15 + 290 * 8, 9);
  });

  it('cycling without a power meter reports no power', () => {
    const e = bestEfforts(trackFromSpeeds(repeat(8, 400)), 'cycling');
    expect(e.map((x) => x.name)).toEqual(['5 s', '1 min', '5 min']);
    for (const x of e) {
      expect(x.avgPowerW).toBeNull();
      expect(x.avgSpeedMps).toBe(8);
    }
  });
});
