import { describe, expect, it } from 'vitest';
import { DEG, EARTH_RADIUS_M, haversine, haversineCos, LocalPlane } from './geo.js';

/** metres of latitude per degree on the sphere */
const M_PER_DEG = EARTH_RADIUS_M * DEG;

describe('geo', () => {
  it('haversine: a degree of meridian is R·π/180, a quarter of the equator is R·π/2', () => {
    expect(haversine(10, 20, 11, 20)).toBeCloseTo((EARTH_RADIUS_M * Math.PI) / 180, 6);
    expect(haversine(0, 0, 0, 90)).toBeCloseTo((EARTH_RADIUS_M * Math.PI) / 2, 4);
    // one degree of longitude at 60° N is half of one at the equator
    expect(haversine(60, 0, 60, 1) / haversine(0, 0, 0, 1)).toBeCloseTo(0.5, 4);
    expect(haversine(46.5, 6.6, 46.5, 6.6)).toBe(0);
  });

  it('haversineCos with the latitudes’ cosines is the haversine (within rounding)', () => {
    const pts = [
      [46.5, 6.6, 46.5001, 6.6002],
      [-33.9, 151.2, -33.8, 151.3],
      [89.9, 0, 89.9, 180],
      [0, 179.9999, 0, -179.9999],
    ] as const;
    for (const [la1, lo1, la2, lo2] of pts) {
      const d = haversine(la1, lo1, la2, lo2);
      expect(d).toBeGreaterThan(1);
      const c = haversineCos(la1, lo1, Math.cos(la1 * DEG), la2, lo2, Math.cos(la2 * DEG));
      expect(Math.abs(c - d) / d).toBeLessThan(1e-9);
    }
  });

  it('local plane: metres round-trip to degrees', () => {
    const p = new LocalPlane();
    p.setOrigin(46.5, 6.6);
    expect(p.y(46.5 + 1 / 10)).toBeCloseTo(M_PER_DEG / 10, 6);
    expect(p.lat(p.y(46.51))).toBeCloseTo(46.51, 12);
    expect(p.lon(p.x(6.62))).toBeCloseTo(6.62, 12);
    expect(p.x(6.6 + 0.01)).toBeCloseTo(M_PER_DEG * 0.01 * Math.cos((46.5 * Math.PI) / 180), 6);
    const q = new LocalPlane();
    q.copyFrom(p);
    expect([q.x(6.61), q.y(46.49)]).toEqual([p.x(6.61), p.y(46.49)]);
  });
});
