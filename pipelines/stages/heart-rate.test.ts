import { describe, expect, it } from 'vitest';
import { sportConfig } from '../config.js';
import { heartRate, maxHrFor } from './heart-rate.js';

describe('heart-rate', () => {
  it('drops 0/255/doubled artefacts and computes zones and TRIMP', () => {
    const n = 601;
    const ts = Float64Array.from({ length: n }, (_, i) => i * 1000);
    const hr = new Uint8Array(n).fill(150);
    hr[100] = 255;
    hr[200] = 0;
    hr[300] = 255;
    hr[400] = 30;
    const flags = new Uint8Array(n);
    const r = heartRate(ts, hr, n, sportConfig('running'), { maxHr: 200, restHr: 50 }, flags);
    expect(r.artefacts).toBe(3);
    expect(r.summary!.avg).toBeCloseTo(150, 5);
    expect(r.summary!.max).toBe(150);
    // 75 % of max; the 4 rows without a usable value own no time
    expect(r.summary!.zonesS[2]).toBe(596);
    // 596 s at HRr 2/3: min · HRr · 0.64 · e^(1.92 · HRr)
    expect(r.summary!.trimp).toBeCloseTo((596 / 60) * (2 / 3) * 0.64 * Math.exp(1.92 * (2 / 3)), 6);
  });

  it('derives max HR from age (Tanaka) when the athlete has none', () => {
    expect(maxHrFor({ birthYear: 1986 }, Date.UTC(2026, 0, 1))).toEqual({
      maxHr: 208 - 0.7 * 40,
      source: 'age',
    });
  });
});
