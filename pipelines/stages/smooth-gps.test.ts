import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schemas/types.js';
import { M_PER_DEG, northLine, sample } from '../../test/support/samples.js';
import { columnsFromSamples } from '../columns.js';
import { type SportConfig, sportConfig } from '../config.js';
import { haversine } from '../primitives/geo.js';
import { FLAG_JUMP } from '../types.js';
import { cleanGps } from './clean-gps.js';
import { estimateFixSigma, smoothGps } from './smooth-gps.js';

function smooth(samples: ReturnType<typeof northLine>, sport: 'running' | 'walking' = 'running') {
  const { columns } = columnsFromSamples(samples);
  const cfg = sportConfig(sport);
  const flags = columns.flags.slice(0, columns.length);
  cleanGps(columns, cfg, flags);
  return { ...smoothGps(columns, cfg, flags), flags };
}

describe('smooth-gps', () => {
  it('keeps an exact straight line and recovers its speed', () => {
    const r = smooth(northLine(200, 4));
    expect(r.gated).toBe(0);
    for (const i of [10, 100, 190]) {
      expect(r.speed[i]).toBeCloseTo(4, 2);
      expect(haversine(r.lat[i]!, r.lon[i]!, 46.5 + (i * 4) / M_PER_DEG, 6.6)).toBeLessThan(0.05);
    }
  });

  it('zig-zag noise does not become distance: steps follow the Doppler speed, no lateral jitter', () => {
    // ±2 m east-west alternation on a walk north at 1.4 m/s (each raw step is ~4.2 m long)
    const kx = M_PER_DEG * Math.cos((46.5 * Math.PI) / 180);
    const line = northLine(300, 1.4).map((s, i) => ({ ...s, lon: s.lon! + (i % 2 ? 2 : -2) / kx, acc: 2 }));
    const r = smooth(line, 'walking');
    let length = 0;
    let worstLateralStep = 0;
    for (let i = 1; i <= 300; i++) {
      length += haversine(r.lat[i - 1]!, r.lon[i - 1]!, r.lat[i]!, r.lon[i]!);
      worstLateralStep = Math.max(worstLateralStep, Math.abs(r.lon[i]! - r.lon[i - 1]!) * kx);
      // along-track position stays on the truth; the lateral offset never exceeds the noise
      expect(Math.abs((r.lat[i]! - 46.5) * M_PER_DEG - i * 1.4)).toBeLessThan(0.05);
      expect(Math.abs((r.lon[i]! - 6.6) * kx)).toBeLessThan(2);
    }
    expect(length).toBeCloseTo(420, 0);
    // raw fixes step 4 m sideways every second
    expect(worstLateralStep).toBeLessThan(0.2);
  });

  it('gates a 150 m jump the speed gate let through, and interpolates over it', () => {
    // a walker (gate 4 m/s + 3σ allowance) whose fix jumps 150 m east for one sample after a gap
    const line = northLine(120, 1.4);
    line[60] = { ...line[60]!, lon: 6.6 + 150 / (M_PER_DEG * Math.cos((46.5 * Math.PI) / 180)) };
    const r = smooth(line, 'walking');
    expect(r.flags[60]! & FLAG_JUMP).toBe(FLAG_JUMP);
    expect(haversine(r.lat[60]!, r.lon[60]!, 46.5 + (60 * 1.4) / M_PER_DEG, 6.6)).toBeLessThan(0.5);
    expect(r.segment[119]).toBe(r.segment[0]);
  });

  it('no valid fix at all: everything NaN', () => {
    const r = smooth(northLine(5, 3, { lat: null, lon: null }));
    expect([...r.lat].every(Number.isNaN)).toBe(true);
    expect([...r.segment]).toEqual([-1, -1, -1, -1, -1, -1]);
  });
});

describe('smooth-gps speed-aided passes', () => {
  it('replaying the recorded gains gives exactly what a full Kalman pass gives', async () => {
    const { generateSession } = await import('../../bench/synth/index.js');
    const { samples } = generateSession({ sport: 'running', seed: 7, durationS: 1200, gpsNoiseM: 6 });
    const { columns } = columnsFromSamples(samples);
    const cfg = sportConfig('running');
    const run = (c: typeof cfg) => {
      const flags = columns.flags.slice(0, columns.length);
      cleanGps(columns, c, flags);
      return smoothGps(columns, c, flags);
    };
    const replayed = run(cfg);
    // a heading weight too small to change any variance (s² + 5e-324·p11 === s²) forces the full
    // covariance recursion in every pass
    const full = run({ ...cfg, headingWeight: Number.MIN_VALUE });
    expect(replayed.lat).toEqual(full.lat);
    expect(replayed.lon).toEqual(full.lon);
    expect(replayed.speed).toEqual(full.speed);
    // and the second aided pass does change the track (it is not skipped)
    const one = run({ ...cfg, aidedPasses: 1 });
    expect(one.lat).not.toEqual(replayed.lat);
  });
});

describe('smooth-gps: 2026.12-1', () => {
  const cfg12 = sportConfig('running', '2026.12-1');
  const prepared = (samples: ReturnType<typeof northLine>) => {
    const { columns } = columnsFromSamples(samples);
    const flags = columns.flags.slice(0, columns.length);
    cleanGps(columns, cfg12, flags);
    return { columns, flags };
  };
  // deterministic white noise, ±σ·√3 uniform
  const noisy = (sigma: number) => {
    let s = 12345;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32 - 0.5;
    };
    const k = sigma * Math.sqrt(12);
    return northLine(3000, 3, { acc: null }).map((x) => ({
      ...x,
      lat: x.lat! + (k * u()) / M_PER_DEG,
      lon: x.lon! + (k * u()) / (M_PER_DEG * Math.cos((46.5 * Math.PI) / 180)),
    }));
  };

  it('estimates the fixes’ noise when none reports an accuracy, within [minAccuracyM, defaultAccuracyM]', () => {
    const clean = prepared(northLine(300, 3, { acc: null }));
    expect(estimateFixSigma(clean.columns, cfg12, clean.flags)).toBe(cfg12.minAccuracyM);
    const five = prepared(noisy(5));
    const est = estimateFixSigma(five.columns, cfg12, five.flags);
    expect(est).toBeGreaterThan(4.5);
    expect(est).toBeLessThan(5.5);
    expect(estimateFixSigma(prepared(noisy(40)).columns, cfg12, prepared(noisy(40)).flags)).toBe(
      cfg12.defaultAccuracyM,
    );
    const reported = prepared(northLine(300, 3));
    expect(estimateFixSigma(reported.columns, cfg12, reported.flags)).toBeNaN();
  });

  it('2026.12-2: the estimate is floored at estimatedSigmaMinM (0.5 m), not the 2 m for reported accuracy', () => {
    const cfg122 = sportConfig('running', '2026.12-2');
    expect(cfg122.estimatedSigmaMinM).toBe(0.5);
    expect(cfg122.minAccuracyM).toBe(2);
    const clean = prepared(northLine(300, 3, { acc: null }));
    expect(estimateFixSigma(clean.columns, cfg122, clean.flags)).toBe(0.5);
    const one = prepared(noisy(1));
    const est = estimateFixSigma(one.columns, cfg122, one.flags);
    expect(est).toBeGreaterThan(0.85);
    expect(est).toBeLessThan(1.15);
    // 2026.12-1 gave the 2 m floor for the same fixes
    expect(estimateFixSigma(one.columns, cfg12, one.flags)).toBe(2);
  });

  it('fixTrack: positions of the positions-only pass, speed of the aided passes', () => {
    const samples = noisy(3);
    const a = prepared(samples);
    const aided = smoothGps(a.columns, cfg12, a.flags);
    const b = prepared(samples);
    const fixed = smoothGps(b.columns, cfg12, b.flags, true);
    const c = prepared(samples.map((x) => ({ ...x, speed: null })));
    const positionsOnly = smoothGps(c.columns, cfg12, c.flags);
    expect(fixed.lat).toEqual(positionsOnly.lat);
    expect(fixed.lon).toEqual(positionsOnly.lon);
    expect(fixed.speed).toEqual(aided.speed);
    expect(fixed.lat).not.toEqual(aided.lat);
  });
});

describe('smooth-gps: 2026.12-3, sparse logs', () => {
  const cfg122 = sportConfig('running', '2026.12-2');
  const cfg123 = sportConfig('running', '2026.12-3');
  const estimate = (samples: Sample[], cfg: SportConfig) => {
    const { columns } = columnsFromSamples(samples);
    const flags = columns.flags.slice(0, columns.length);
    cleanGps(columns, cfg, flags);
    return estimateFixSigma(columns, cfg, flags);
  };
  /** noise-free laps of a 40 m circle at 3 m/s, a fix every `dt` s, no accuracy reported */
  const circle = (dt: number, noise = 0) => {
    let s = 99;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s / 2 ** 32 - 0.5) * noise * Math.sqrt(12);
    };
    const out: Sample[] = [];
    for (let t = 0; t <= 1200; t += dt) {
      const a = (3 * t) / 40;
      out.push(
        sample(t, {
          lat: 46.5 + (40 * Math.sin(a) + u()) / M_PER_DEG,
          lon: 6.6 + (40 * Math.cos(a) + u()) / (M_PER_DEG * Math.cos((46.5 * Math.PI) / 180)),
          acc: null,
          speed: null,
        }),
      );
    }
    return out;
  };

  it('at 4 s between fixes the bends are not taken for noise: lag-0 extrapolation, floor 0.1 m', () => {
    // the bend between fixes 4 s apart (0.225 m/s² of centripetal acceleration) reads as > 1 m of noise
    expect(estimate(circle(4), cfg122)).toBeGreaterThan(1);
    expect(estimate(circle(4), cfg123)).toBe(cfg123.estimatedSigmaSparseMinM);
    expect(cfg123.estimatedSigmaSparseMinM).toBe(0.1);
  });

  it('keeps white noise on a sparse straight log, and changes nothing at 1 Hz', () => {
    let s = 7;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s / 2 ** 32 - 0.5) * 1.5 * Math.sqrt(12);
    };
    const straight = northLine(2400, 3, { acc: null, speed: null })
      .filter((_, i) => i % 4 === 0)
      .map((x) => ({ ...x, lat: x.lat! + u() / M_PER_DEG, lon: x.lon! + u() / (M_PER_DEG * 0.688) }));
    const est = estimate(straight, cfg123);
    expect(est).toBeGreaterThan(1.2);
    expect(est).toBeLessThan(1.8);
    for (const noise of [0, 1.5]) {
      expect(estimate(circle(1, noise), cfg123)).toBe(estimate(circle(1, noise), cfg122));
    }
  });

  it('known limit: steady bends and noise together on a sparse log read as less noise than there is', () => {
    // linear extrapolation in the lag assumes motion adds variance linearly; a constant bend adds it
    // with the fourth power of the lag, so σ 1.5 m on the 40 m circle at 4 s reads as the floor
    // (docs/algorithms.md, 2026.12-3)
    expect(estimate(circle(4, 1.5), cfg123)).toBeLessThan(1);
  });

  it('walking and hiking: a sparse log is floored at 0.5 m (2 m at 1 Hz), without extrapolation', () => {
    const hike = sportConfig('hiking', '2026.12-3');
    expect(hike.fixSigmaLagExtrapolate).toBe(false);
    expect(
      estimate(
        northLine(1200, 1, { acc: null }).filter((_, i) => i % 10 === 0),
        hike,
      ),
    ).toBe(0.5);
    expect(estimate(northLine(1200, 1, { acc: null }), hike)).toBe(2);
  });
});
