import { describe, expect, it } from 'vitest';
import { allocColumns } from './columns.js';
import { sportConfig } from './config.js';
import { LiveEstimator } from './live-estimator.js';
import { DEG, EARTH_RADIUS_M } from './primitives/geo.js';

const T0 = 1_760_000_000_000;

/** n rows at 1 Hz due north at `speed` m/s, accuracy 3 m, with or without the device's speed */
function northRun(n: number, speed: number, withDeviceSpeed: boolean) {
  const c = allocColumns(n);
  c.length = n;
  for (let i = 0; i < n; i++) {
    c.ts[i] = T0 + i * 1000;
    c.lat[i] = Math.round((46.5 + (i * speed) / (EARTH_RADIUS_M * DEG)) * 1e7);
    c.lon[i] = 66_000_000;
    c.acc[i] = 3;
    c.speed[i] = withDeviceSpeed ? speed : Number.NaN;
    c.dist[i] = Number.NaN;
    c.alt[i] = Number.NaN;
    c.hr[i] = 150;
  }
  return c;
}

describe('live estimator', () => {
  const cfg = sportConfig('running');

  it('integrates the device speed into distance while moving, and reports the newest row', () => {
    const c = northRun(101, 3, true);
    const e = new LiveEstimator(cfg);
    e.reset(new Float64Array(0));
    for (let i = 0; i < c.length; i++) e.step(c, i);
    const s = e.state(c.length);
    expect(s.distanceM).toBeCloseTo(300, 9);
    expect(s.movingS).toBe(100);
    expect(s.elapsedS).toBe(100);
    expect(s.ts).toBe(T0 + 100_000);
    expect(s.speedMps).toBe(3);
    expect(s.paceSPerKm).toBeCloseTo(1000 / 3, 9);
    expect(s.hr).toBe(150);
    expect(s.lat!).toBeCloseTo(46.5 + 300 / (EARTH_RADIUS_M * DEG), 5);
  });

  it('without device speed, the filtered track gives the distance', () => {
    const c = northRun(101, 3, false);
    const e = new LiveEstimator(cfg);
    e.reset(new Float64Array(0));
    for (let i = 0; i < c.length; i++) e.step(c, i);
    const s = e.state(c.length);
    expect(Math.abs(s.distanceM - 300)).toBeLessThan(10);
    expect(Math.abs(s.speedMps! - 3)).toBeLessThan(0.2);
  });

  it('an explicit pause adds neither distance nor moving time; a copy continues where the original was', () => {
    const c = northRun(101, 3, true);
    const e = new LiveEstimator(cfg);
    // paused over (T0 + 20 s, T0 + 50 s]
    e.reset(Float64Array.from([T0 + 20_000, T0 + 50_000]));
    const copy = new LiveEstimator(cfg);
    for (let i = 0; i < c.length; i++) {
      e.step(c, i);
      if (i === 60) copy.copyFrom(e);
    }
    for (let i = 61; i < c.length; i++) copy.step(c, i);
    const s = e.state(c.length);
    expect(s.movingS).toBe(70);
    expect(s.distanceM).toBeCloseTo(210, 9);
    expect(s.paused).toBe(false);
    expect(copy.state(c.length)).toEqual(s);
  });
});
