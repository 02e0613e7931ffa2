import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EARTH_RADIUS_M, haversineM, metresToDegLat, metresToDegLon, wrapLon } from './geo.js';

describe('haversineM', () => {
  it('uses the IUGG mean radius R = 6_371_008.8 m', () => {
    expect(EARTH_RADIUS_M).toBe(6_371_008.8);
    expect(haversineM(0, 0, 1, 0)).toBeCloseTo((Math.PI / 180) * 6_371_008.8, 6);
    expect(haversineM(0, 0, 0, 180)).toBeCloseTo(Math.PI * 6_371_008.8, 3);
    expect(haversineM(46.52, 6.63, 46.52, 6.63)).toBe(0);
  });

  it('is symmetric and non-negative', () => {
    const lat = fc.double({ min: -89, max: 89, noNaN: true });
    const lon = fc.double({ min: -180, max: 180, noNaN: true });
    fc.assert(
      fc.property(lat, lon, lat, lon, (a, b, c, d) => {
        const x = haversineM(a, b, c, d);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeCloseTo(haversineM(c, d, a, b), 6);
      }),
    );
  });

  it('agrees with the metre-to-degree helpers over short steps', () => {
    const lat = 46.52;
    expect(haversineM(lat, 6.63, lat + metresToDegLat(10), 6.63)).toBeCloseTo(10, 9);
    expect(haversineM(lat, 6.63, lat, 6.63 + metresToDegLon(10, lat))).toBeCloseTo(10, 6);
  });

  it('wraps longitudes into [-180, 180)', () => {
    expect(wrapLon(181)).toBeCloseTo(-179, 12);
    expect(wrapLon(-181)).toBeCloseTo(179, 12);
    expect(wrapLon(180)).toBe(-180);
    expect(wrapLon(6.63)).toBe(6.63);
  });
});
