import { describe, expect, it } from 'vitest';
import { decodePolyline, encodePolyline, simplify } from './polyline.js';

describe('polyline', () => {
  it('encodes the reference example', () => {
    const lat = Float64Array.from([38.5, 40.7, 43.252]);
    const lon = Float64Array.from([-120.2, -120.95, -126.453]);
    expect(encodePolyline(lat, lon, 3)).toBe('_p~iF~ps|U_ulLnnqC_mqNvxq`@');
    expect(decodePolyline('_p~iF~ps|U_ulLnnqC_mqNvxq`@')).toEqual([
      [38.5, -120.2],
      [40.7, -120.95],
      [43.252, -126.453],
    ]);
  });

  it('simplifies to at most maxPoints', () => {
    const n = 20_000;
    const lat = Float64Array.from({ length: n }, (_, i) => 46.5 + 0.01 * Math.sin(i / 300));
    const lon = Float64Array.from({ length: n }, (_, i) => 6.6 + i * 1e-5);
    const s = simplify(lat, lon, n, 2, 500);
    expect(s.lat.length).toBeLessThanOrEqual(500);
    expect(s.lat[0]).toBe(lat[0]);
    expect(s.lat[s.lat.length - 1]).toBe(lat[n - 1]);
  });
});
