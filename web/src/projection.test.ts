import polyline from '@mapbox/polyline';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { encodePolyline } from '../../pipelines/stages/polyline.js';
import { fitBounds, mercator } from './projection';

const point = fc.record({
  lat: fc.double({ min: -80, max: 80, noNaN: true }),
  lon: fc.double({ min: -179, max: 179, noNaN: true }),
});

describe('the canvas projection', () => {
  test('every point lands inside the canvas, within the padding', () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 50 }), (pts) => {
        const fit = fitBounds(pts, 400, 300, 10);
        for (const p of pts) {
          const q = fit.project(p);
          expect(q.x).toBeGreaterThanOrEqual(10 - 1e-6);
          expect(q.x).toBeLessThanOrEqual(390 + 1e-6);
          expect(q.y).toBeGreaterThanOrEqual(10 - 1e-6);
          expect(q.y).toBeLessThanOrEqual(290 + 1e-6);
        }
      }),
    );
  });
  test('one scale on both axes: the shape of a route is kept, and north is up', () => {
    const sq = [
      { lat: 47.0, lon: 8.0 },
      { lat: 47.01, lon: 8.01 },
    ];
    const fit = fitBounds(sq, 1000, 1000, 0);
    const a = fit.project(sq[0]!);
    const b = fit.project(sq[1]!);
    const ma = mercator(sq[0]!);
    const mb = mercator(sq[1]!);
    expect((b.x - a.x) / (mb.x - ma.x)).toBeCloseTo((b.y - a.y) / (mb.y - ma.y), 6);
    expect(b.y).toBeLessThan(a.y);
  });
  test('a single point sits in the centre', () => {
    const q = fitBounds([{ lat: 10, lon: 10 }], 200, 100).project({ lat: 10, lon: 10 });
    expect(q).toEqual({ x: 100, y: 50 });
  });
  test("@mapbox/polyline reads what the pipelines' encoder writes (to its 1e-5 precision)", () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 200 }), (pts) => {
        const s = encodePolyline(
          Float64Array.from(pts.map((p) => p.lat)),
          Float64Array.from(pts.map((p) => p.lon)),
          pts.length,
        );
        const back = polyline.decode(s);
        expect(back).toHaveLength(pts.length);
        back.forEach(([lat, lon], i) => {
          expect(Math.abs(lat - pts[i]!.lat)).toBeLessThanOrEqual(0.5e-5 + 1e-9);
          expect(Math.abs(lon - pts[i]!.lon)).toBeLessThanOrEqual(0.5e-5 + 1e-9);
        });
      }),
    );
  });
});
