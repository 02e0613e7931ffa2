import { describe, expect, it } from 'vitest';
import { sportConfig } from '../config.js';
import { elevation, estimateAltSigma, gainLoss, smoothAltitude } from './elevation.js';

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

describe('elevation: 2026.12-1', () => {
  const cfg = sportConfig('cycling', '2026.12-1');
  const speed = (n: number) => new Float32Array(n).fill(8);

  it('a quiet profile is smoothed as its own noise and counted with a 2 m hysteresis', () => {
    // 0.2 m-resolution rollers of 3 m every 200 s, as a barometric altimeter records them
    const n = 2001;
    const ts = Float64Array.from({ length: n }, (_, i) => i * 1000);
    const alt = Float32Array.from(
      { length: n },
      (_, i) => Math.round(5 * (100 + 1.5 * Math.sin((2 * Math.PI * i) / 200))) / 5,
    );
    expect(estimateAltSigma(ts, alt, n, cfg)).toBe(cfg.altSigmaMinM);
    const now = elevation(ts, alt, speed(n), n, cfg);
    expect(now.hysteresisM).toBe(2);
    // nine rises of 3 m and a last half one, 27 m as a 2 m hysteresis counts the records: the
    // smoother keeps 2.84 of each roller's 3 m
    const raw = gainLoss(alt, 0, n, 2).gain;
    expect(raw).toBeCloseTo(27, 5);
    expect(now.gainM).toBeGreaterThan(0.9 * raw);
    expect(now.gainM).toBeLessThanOrEqual(raw);
    const old = elevation(ts, alt, speed(n), n, sportConfig('cycling', '2026.11-3'));
    expect(old.hysteresisM).toBe(4);
    expect(old.gainM).toBeLessThan(5);
  });

  it('noise of σ 3 m keeps the sport’s σ and hysteresis', () => {
    let s = 99;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32 - 0.5;
    };
    const n = 2001;
    const ts = Float64Array.from({ length: n }, (_, i) => i * 1000);
    const alt = Float32Array.from({ length: n }, () => 100 + 3 * Math.sqrt(12) * u());
    expect(estimateAltSigma(ts, alt, n, cfg)).toBe(cfg.altSigmaM);
    expect(elevation(ts, alt, speed(n), n, cfg).hysteresisM).toBe(cfg.elevHysteresisM);
  });

  it('a gap in the recording re-starts the smoother: the vertical rate does not carry across it', () => {
    // climbing 0.5 m/s into a 1 h stop, then flat 20 m higher (another floor, or the weather)
    const n = 400;
    const ts = Float64Array.from({ length: n }, (_, i) => (i < 200 ? i : i + 3600) * 1000);
    const alt = Float32Array.from({ length: n }, (_, i) => (i < 200 ? 100 + 0.5 * i : 220));
    const now = elevation(ts, alt, speed(n), n, cfg);
    // 99.5 m up to the stop, 20.5 m across it: the smoothed profile never overshoots
    for (let i = 200; i < n; i++) expect(Math.abs(now.alt[i]! - 220)).toBeLessThan(1);
    expect(now.gainM).toBeCloseTo(120, 0);
  });
});
