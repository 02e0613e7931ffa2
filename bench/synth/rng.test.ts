import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, gaussianAt, STREAM, streamRng, uniformAt } from './rng.js';

function moments(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, variance: xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length };
}

describe('rng', () => {
  it('replays the same sequence for the same seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    for (let i = 0; i < 1000; i++) expect(a.gaussian()).toBe(b.gaussian());
  });

  it('gives independent streams per concern and per seed', () => {
    expect(deriveSeed(1, STREAM.gps)).not.toBe(deriveSeed(1, STREAM.jumps));
    expect(deriveSeed(1, STREAM.gps)).not.toBe(deriveSeed(2, STREAM.gps));
    // seeds beyond 32 bits keep their high part
    expect(deriveSeed(2 ** 40 + 1, STREAM.gps)).not.toBe(deriveSeed(1, STREAM.gps));
    expect(deriveSeed(-1, STREAM.gps)).not.toBe(deriveSeed(2 ** 32 - 1, STREAM.gps));
  });

  it('draws uniform in [0, 1) and standard normals', () => {
    const r = streamRng(7, STREAM.pace);
    const u = Array.from({ length: 20_000 }, () => r.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(moments(u).mean).toBeCloseTo(0.5, 1);
    const g = moments(Array.from({ length: 20_000 }, () => r.gaussian()));
    expect(Math.abs(g.mean)).toBeLessThan(0.03);
    expect(g.variance).toBeGreaterThan(0.95);
    expect(g.variance).toBeLessThan(1.05);
    for (let i = 0; i < 1000; i++) {
      const k = r.int(1, 3);
      expect([1, 2, 3]).toContain(k);
    }
  });

  it('hashes (index, salt) into uniform and normal values without state', () => {
    const base = deriveSeed(3, STREAM.whiteNoise);
    expect(uniformAt(base, 10, 1)).toBe(uniformAt(base, 10, 1));
    expect(uniformAt(base, 10, 1)).not.toBe(uniformAt(base, 10, 2));
    const u = Array.from({ length: 20_000 }, (_, i) => uniformAt(base, i));
    expect(moments(u).mean).toBeCloseTo(0.5, 1);
    const g = moments(Array.from({ length: 20_000 }, (_, i) => gaussianAt(base, i)));
    expect(Math.abs(g.mean)).toBeLessThan(0.03);
    expect(Math.abs(g.variance - 1)).toBeLessThan(0.05);
    // consecutive indices are uncorrelated
    let c = 0;
    for (let i = 1; i < u.length; i++) c += (u[i]! - 0.5) * (u[i - 1]! - 0.5);
    expect(Math.abs(c / u.length / (1 / 12))).toBeLessThan(0.05);
  });
});
