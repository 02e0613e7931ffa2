import { describe, expect, it } from 'vitest';
import { NoiseEstimator } from './noise.js';

// a deterministic normal generator (Box–Muller over a small LCG), so the test is reproducible
function normals(seed: number) {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe('NoiseEstimator', () => {
  it('recovers the sigma of white noise on a constant-velocity path, at any sampling', () => {
    for (const sigma of [0.5, 2, 6]) {
      const g = normals(7);
      const est = new NoiseEstimator(0.01, 50);
      let t = 0;
      const ts: number[] = [];
      const z: number[] = [];
      for (let i = 0; i < 5000; i++) {
        t += 1 + (i % 7); // 1..7 s apart, as smart recording writes
        ts.push(t);
        z.push(3.2 * t + sigma * g());
      }
      for (let i = 2; i < z.length; i++)
        est.add(z[i - 2]!, z[i - 1]!, z[i]!, ts[i - 1]! - ts[i - 2]!, ts[i]! - ts[i - 1]!);
      expect(est.sigma(10) / sigma).toBeGreaterThan(0.93);
      expect(est.sigma(10) / sigma).toBeLessThan(1.07);
    }
  });

  it('is NaN with too few triples, and near 0 on a noise-free straight line', () => {
    const est = new NoiseEstimator(0.01, 50);
    expect(est.sigma(1)).toBeNaN();
    for (let i = 0; i < 100; i++) est.add(i, i + 1, i + 2, 1, 1);
    expect(est.sigma(200)).toBeNaN();
    expect(est.sigma(10)).toBeLessThan(0.01 / 0.6745 + 1e-12);
  });
});
