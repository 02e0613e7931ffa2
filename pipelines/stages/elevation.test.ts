import { describe, expect, it } from 'vitest';
import { sportConfig } from '../config.js';
import { gainLoss, smoothAltitude } from './elevation.js';

describe('elevation hysteresis', () => {
  it('counts climbs and descents beyond the threshold, ignores wiggles below it', () => {
    const alt = Float32Array.from([100, 101, 100, 101, 110, 109, 110, 95, 96, 95, 100]);
    expect(gainLoss(alt, 0, alt.length, 3)).toEqual({ gain: 15, loss: 15 });
  });
});

describe('elevation smoothing', () => {
  const session = (n: number, firstAlt: number, seed: number) => {
    const ts = Float64Array.from({ length: n }, (_, i) => i * 1000);
    const alt = Float32Array.from({ length: n }, (_, i) =>
      i < firstAlt ? Number.NaN : 300 + 20 * Math.sin(i / 200) + 3 * Math.sin(i * seed),
    );
    const speed = new Float32Array(n).fill(3);
    return { ts, alt, speed, n };
  };
  const smooth = (s: ReturnType<typeof session>) =>
    smoothAltitude(s.ts, s.alt, s.speed, s.n, sportConfig('running'));

  it('a stop adds no process noise: the profile ignores a slow altitude drift while standing', () => {
    // flat terrain; the reading drifts up 3 m and back while standing from 200 s to 400 s (the
    // slow wander of GPS altitude)
    const n = 600;
    const s = session(n, 0, 1.7);
    for (let i = 0; i < n; i++) {
      const standing = i > 200 && i <= 400;
      s.speed[i] = standing ? 0 : 3;
      s.alt[i] = 300 + (standing ? 3 * Math.sin((Math.PI * (i - 200)) / 200) : 0);
    }
    const a = smooth(s);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 201; i <= 400; i++) {
      lo = Math.min(lo, a[i]!);
      hi = Math.max(hi, a[i]!);
    }
    // one level for the whole stop (the drift's mean is shared out, not followed)
    expect(hi - lo).toBeLessThan(0.05);
  });

  it('working arrays reused from a larger session do not leak into a smaller one', () => {
    const small = session(500, 37, 1.3);
    const before = smooth(small);
    smooth(session(5000, 0, 2.9));
    const after = smooth(small);
    expect(after).toEqual(before);
    expect(Number.isNaN(after[36]!)).toBe(true);
    expect(Number.isNaN(after[37]!)).toBe(false);
  });
});
