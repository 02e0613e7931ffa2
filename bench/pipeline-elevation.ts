// Elevation-gain variants against synthetic ground truth: the 30 accuracy sessions
// (test/support/accuracy-harness.ts), 30 held-out ones (other seeds, same generator) and 60 fresh
// ones (seeds 1000+, 2000+, 3000+, 4000+: never looked at while choosing anything), so a threshold
// chosen on the first set is checked on sessions it was not chosen on.
// Writes bench/results/pipeline-elevation.{json,md}.
//   npx tsx bench/pipeline-elevation.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SportConfig, sportConfig } from '../pipelines/config.js';
import { computeActivity } from '../pipelines/index.js';
import { gainLoss, smoothAltitude } from '../pipelines/stages/elevation.js';
import { type AccuracyCase, accuracyCases } from '../test/support/accuracy-harness.js';
import { generateSession } from './synth/index.js';
import { STREAM, streamRng } from './synth/rng.js';

type SetName = 'accuracy' | 'held-out' | 'fresh';
interface Input {
  set: SetName;
  c: AccuracyCase;
  ts: Float64Array;
  alt: Float32Array;
  speed: Float32Array;
  /** cleaned cumulative distance, m */
  dist: Float64Array;
  /** noise-free altitude at each sample */
  trueAlt: Float32Array;
  /** correlation time of this session's altitude noise: known to the generator only (oracle rows) */
  altTauS: number;
  truthGainM: number;
}

function heldOutCases(): AccuracyCase[] {
  const noise = [3, 4, 5, 6, 7, 8, 3.5, 5.5, 6.5, 7.5];
  return [
    ...noise.map((g, k) => ({ sport: 'running' as const, seed: 110 + k, durationS: 3600, gpsNoiseM: g })),
    ...noise.map((g, k) => ({ sport: 'walking' as const, seed: 310 + k, durationS: 3600, gpsNoiseM: g })),
    ...noise
      .slice(0, 5)
      .map((g, k) => ({ sport: 'cycling' as const, seed: 210 + k, durationS: 7200, gpsNoiseM: g })),
    ...noise
      .slice(0, 5)
      .map((g, k) => ({ sport: 'hiking' as const, seed: 410 + k, durationS: 7200, gpsNoiseM: g })),
  ];
}

/** 60 sessions that no variant or threshold was ever tuned on. */
function freshCases(): AccuracyCase[] {
  const noise = [3, 4, 5, 6, 7, 8, 3.5, 5.5, 6.5, 7.5];
  const out: AccuracyCase[] = [];
  for (let k = 0; k < 20; k++)
    out.push({ sport: 'running', seed: 1000 + k, durationS: 3600, gpsNoiseM: noise[k % 10]! });
  for (let k = 0; k < 20; k++)
    out.push({ sport: 'walking', seed: 3000 + k, durationS: 3600, gpsNoiseM: noise[k % 10]! });
  for (let k = 0; k < 10; k++)
    out.push({ sport: 'cycling', seed: 2000 + k, durationS: 7200, gpsNoiseM: noise[k]! });
  for (let k = 0; k < 10; k++)
    out.push({ sport: 'hiking', seed: 4000 + k, durationS: 7200, gpsNoiseM: noise[k]! });
  return out;
}

function load(set: SetName, c: AccuracyCase): Input {
  const { samples, truth } = generateSession({ ...c, altNoiseM: 3 });
  const r = computeActivity({
    userId: 'u',
    deviceId: 'd',
    sessionId: `s${c.seed}`,
    sport: c.sport,
    samples,
    controls: [],
    sets: [],
    athlete: {},
  });
  return {
    set,
    c,
    ts: r.samples.ts,
    alt: r.samples.alt,
    speed: r.samples.speed,
    dist: r.samples.distance,
    trueAlt: Float32Array.from(truth.trueAlt),
    // sensors.ts: the altitude-noise stream's first draw is the Gauss-Markov time constant
    altTauS: streamRng(c.seed, STREAM.altNoise).uniform(15, 40),
    truthGainM: truth.elevationGainM,
  };
}

/**
 * Distance-domain smoothing: altitude resampled every `stepM` metres of cleaned path (linear in
 * time between the samples that bracket each grid point, so a stop is one point, not many), then a
 * Gaussian kernel of sigma `lM` metres along the path. Terrain is a function of distance; this
 * keeps the time-correlated noise of a stop from being averaged into a confident wrong value.
 */
function smoothOverDistance(x: Input, stepM: number, lM: number): Float32Array {
  const g = distanceGrid(x, stepM);
  const m = g.length;
  const w = Math.ceil((3 * lM) / stepM);
  const ker = Array.from({ length: 2 * w + 1 }, (_, q) =>
    Math.exp(-(((q - w) * stepM) ** 2) / (2 * lM * lM)),
  );
  const out = new Float32Array(m);
  for (let k = 0; k < m; k++) {
    let a = 0;
    let b = 0;
    for (let q = -w; q <= w; q++) {
      const i = k + q;
      if (i < 0 || i >= m) continue;
      a += ker[q + w]! * g[i]!;
      b += ker[q + w]!;
    }
    out[k] = a / b;
  }
  return out;
}

/**
 * Altitude + vertical rate (process noise q·v³, as shipped) + an AR(1) measurement bias state
 * (time constant tauS, sigma sigmaB) for the slow drift, white sigmaW on top; Kalman + RTS.
 */
function smoothWithBias(x: Input, q: number, sigmaW: number, sigmaB: number, tauS: number): Float64Array {
  const n = x.ts.length;
  const m = new Float64Array(n * 3);
  const p = new Float64Array(n * 9);
  const pp = new Float64Array(n * 9);
  const f = new Float64Array(n * 2); // dt, rho per step
  const R = sigmaW * sigmaW;
  const mul = (a: ArrayLike<number>, b: ArrayLike<number>, t = false) => {
    const o = new Float64Array(9);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 3; k++) o[3 * i + j]! += a[3 * i + k]! * (t ? b[3 * j + k]! : b[3 * k + j]!);
    return o;
  };
  const inv = (a: ArrayLike<number>) => {
    const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = Array.from(a) as number[] as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const c0 = a4 * a8 - a5 * a7;
    const c1 = a5 * a6 - a3 * a8;
    const c2 = a3 * a7 - a4 * a6;
    const d = a0 * c0 + a1 * c1 + a2 * c2;
    return Float64Array.from([
      c0,
      a2 * a7 - a1 * a8,
      a1 * a5 - a2 * a4,
      c1,
      a0 * a8 - a2 * a6,
      a2 * a3 - a0 * a5,
      c2,
      a1 * a6 - a0 * a7,
      a0 * a4 - a1 * a3,
    ]).map((v) => v / d);
  };
  let s = [x.alt[0]!, 0, 0];
  let P = Float64Array.from([R + 1, 0, 0, 0, 1, 0, 0, 0, sigmaB * sigmaB]);
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const dt = (x.ts[i]! - x.ts[i - 1]!) * 0.001;
      const rho = Math.exp(-dt / tauS);
      f[2 * i] = dt;
      f[2 * i + 1] = rho;
      let v = x.speed[i]!;
      if (Number.isNaN(v)) v = 3;
      const qq = q * (v * v * v + 1e-4);
      const F = [1, dt, 0, 0, 1, 0, 0, 0, rho];
      P = mul(mul(F, P), F, true);
      P[0]! += (qq * dt * dt * dt) / 3;
      P[1]! += (qq * dt * dt) / 2;
      P[3]! += (qq * dt * dt) / 2;
      P[4]! += qq * dt;
      P[8]! += sigmaB * sigmaB * (1 - rho * rho);
      s = [s[0]! + dt * s[1]!, s[1]!, rho * s[2]!];
    }
    pp.set(P, 9 * i);
    const e = x.alt[i]! - s[0]! - s[2]!;
    const S = P[0]! + 2 * P[2]! + P[8]! + R;
    if ((e * e) / S <= 25) {
      const hp = [P[0]! + P[6]!, P[1]! + P[7]!, P[2]! + P[8]!];
      s = s.map((v, k) => v + (hp[k]! / S) * e);
      P = P.map((v, k) => v - (hp[Math.floor(k / 3)]! * hp[k % 3]!) / S);
    }
    m.set(s, 3 * i);
    p.set(P, 9 * i);
  }
  const out = new Float64Array(n);
  let xs = [m[3 * (n - 1)]!, m[3 * (n - 1) + 1]!, m[3 * (n - 1) + 2]!];
  out[n - 1] = xs[0]!;
  for (let k = n - 2; k >= 0; k--) {
    const dt = f[2 * (k + 1)]!;
    const rho = f[2 * (k + 1) + 1]!;
    const F = [1, dt, 0, 0, 1, 0, 0, 0, rho];
    const G = mul(mul(p.subarray(9 * k, 9 * k + 9), F, true), inv(pp.subarray(9 * (k + 1), 9 * (k + 2))));
    const xk = [m[3 * k]!, m[3 * k + 1]!, m[3 * k + 2]!];
    const d = [xs[0]! - (xk[0]! + dt * xk[1]!), xs[1]! - xk[1]!, xs[2]! - rho * xk[2]!];
    xs = [0, 1, 2].map((r) => xk[r]! + G[3 * r]! * d[0]! + G[3 * r + 1]! * d[1]! + G[3 * r + 2]! * d[2]!);
    out[k] = xs[0]!;
  }
  return out;
}

/**
 * Altitude + grade (per metre of path) Kalman + RTS: the step is the distance v·dt, so altitude
 * and grade both freeze while standing (the shipped smoother's second state is a vertical rate per
 * second, which carries on through a stop). Process noise q per metre, as the shipped q·v³.
 */
function smoothGrade(x: Input, q: number, sigma: number): Float32Array {
  const n = x.ts.length;
  const r = sigma * sigma;
  const h = new Float64Array(n);
  const g = new Float64Array(n);
  const P = new Float64Array(n * 3);
  const Pp = new Float64Array(n * 3);
  const ds = new Float64Array(n);
  let hx = x.alt[0]!;
  let hg = 0;
  let p00 = r;
  let p01 = 0;
  let p11 = 0.01;
  h[0] = hx;
  P.set([p00, p01, p11], 0);
  Pp.set([p00, p01, p11], 0);
  for (let i = 1; i < n; i++) {
    let v = x.speed[i]!;
    if (Number.isNaN(v)) v = 3;
    const d = v * (x.ts[i]! - x.ts[i - 1]!) * 0.001;
    ds[i] = d;
    hx += hg * d;
    const qq = q * d + 1e-10;
    const a00 = p00 + 2 * d * p01 + d * d * p11 + (qq * d * d) / 3;
    const a01 = p01 + d * p11 + (qq * d) / 2;
    p11 += qq;
    p00 = a00;
    p01 = a01;
    Pp.set([p00, p01, p11], 3 * i);
    const e = x.alt[i]! - hx;
    if ((e * e) / (p00 + r) <= 25) {
      const S = p00 + r;
      const k0 = p00 / S;
      const k1 = p01 / S;
      hx += k0 * e;
      hg += k1 * e;
      p11 -= k1 * p01;
      p01 = (1 - k0) * p01;
      p00 = (1 - k0) * p00;
    }
    h[i] = hx;
    g[i] = hg;
    P.set([p00, p01, p11], 3 * i);
  }
  for (let k = n - 2; k >= 0; k--) {
    const j = k + 1;
    const d = ds[j]!;
    const f00 = P[3 * k]!;
    const f01 = P[3 * k + 1]!;
    const f11 = P[3 * k + 2]!;
    const b00 = Pp[3 * j]!;
    const b01 = Pp[3 * j + 1]!;
    const b11 = Pp[3 * j + 2]!;
    const a00 = f00 + d * f01;
    const a10 = f01 + d * f11;
    const inv = 1 / (b00 * b11 - b01 * b01);
    const ez = h[j]! - (h[k]! + g[k]! * d);
    const eg = g[j]! - g[k]!;
    h[k] = h[k]! + (a00 * b11 - f01 * b01) * inv * ez + (f01 * b00 - a00 * b01) * inv * eg;
    g[k] = g[k]! + (a10 * b11 - f11 * b01) * inv * ez + (f11 * b00 - a10 * b01) * inv * eg;
  }
  return Float32Array.from(h);
}

/**
 * 1D total-variation denoising, argmin_x ½‖y − x‖² + λ Σ|x[k+1] − x[k]|, by Condat's direct
 * algorithm (L. Condat, "A direct algorithm for 1D total variation denoising", IEEE SPL 2013).
 * The result is piecewise constant: a climb is kept as long as it is steeper than the penalty.
 */
function tvDenoise(y: ArrayLike<number>, lambda: number): Float32Array {
  const n = y.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  let k = 0;
  let k0 = 0;
  let kplus = 0;
  let kminus = 0;
  let umin = lambda;
  let umax = -lambda;
  let vmin = y[0]! - lambda;
  let vmax = y[0]! + lambda;
  for (;;) {
    while (k === n - 1) {
      if (umin < 0) {
        do out[k0++] = vmin;
        while (k0 <= kminus);
        k = kminus = k0;
        vmin = y[k]!;
        umin = lambda;
        umax = vmin + umin - vmax;
      } else if (umax > 0) {
        do out[k0++] = vmax;
        while (k0 <= kplus);
        k = kplus = k0;
        vmax = y[k]!;
        umax = -lambda;
        umin = vmax + umax - vmin;
      } else {
        vmin += umin / (k - k0 + 1);
        do out[k0++] = vmin;
        while (k0 <= k);
        return out;
      }
    }
    umin += y[k + 1]! - vmin;
    if (umin < -lambda) {
      do out[k0++] = vmin;
      while (k0 <= kminus);
      k = kplus = kminus = k0;
      vmin = y[k]!;
      vmax = vmin + 2 * lambda;
      umin = lambda;
      umax = -lambda;
      continue;
    }
    umax += y[k + 1]! - vmax;
    if (umax > lambda) {
      do out[k0++] = vmax;
      while (k0 <= kplus);
      k = kplus = kminus = k0;
      vmax = y[k]!;
      vmin = vmax - 2 * lambda;
      umin = lambda;
      umax = -lambda;
      continue;
    }
    k++;
    if (umin >= lambda) {
      kminus = k;
      vmin += (umin - lambda) / (kminus - k0 + 1);
      umin = lambda;
    }
    if (umax <= -lambda) {
      kplus = k;
      vmax += (umax + lambda) / (kplus - k0 + 1);
      umax = -lambda;
    }
  }
}

/** Altitude resampled every `stepM` metres of cleaned path (linear between bracketing samples). */
function distanceGrid(x: Input, stepM: number): Float64Array {
  const s = x.dist;
  const n = s.length;
  const m = Math.floor(s[n - 1]! / stepM) + 1;
  const g = new Float64Array(m);
  let j = 0;
  for (let k = 0; k < m; k++) {
    const at = k * stepM;
    while (j < n - 2 && s[j + 1]! < at) j++;
    const s0 = s[j]!;
    const s1 = s[j + 1] ?? s0;
    const u = s1 > s0 ? Math.min(1, Math.max(0, (at - s0) / (s1 - s0))) : 0;
    g[k] = x.alt[j]! + u * ((x.alt[j + 1] ?? x.alt[j]!) - x.alt[j]!);
  }
  return g;
}

/** Quadratic Savitzky–Golay smoothing, half-window `m` points (the window shrinks at the ends). */
function savitzkyGolay(y: Float64Array, m: number): Float32Array {
  const n = y.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h = Math.min(m, i, n - 1 - i);
    if (h < 2) {
      out[i] = y[i]!;
      continue;
    }
    const den = (2 * h + 1) * (4 * h * h + 4 * h - 3);
    let a = 0;
    for (let k = -h; k <= h; k++) a += ((3 * (3 * h * h + 3 * h - 1) - 15 * k * k) / den) * y[i + k]!;
    out[i] = a;
  }
  return out;
}

/**
 * L1 trend filtering, argmin_x ½‖y − x‖² + λ‖D²x‖₁ (piecewise-linear: a climb stays a straight
 * ramp until the grade changes by enough), by ADMM with ρ = λ: the x-update solves the pentadiagonal
 * system (I + ρ D²ᵀD²) x = y + ρ D²ᵀ(z − u) by a banded LDLᵀ factorised once; z is soft-thresholded.
 */
function l1TrendFilter(y: Float64Array, lambda: number, iterations: number): Float32Array {
  const m = y.length;
  const rho = lambda;
  if (m < 3) return Float32Array.from(y);
  // A = I + ρ D²ᵀD²: diagonal a0, first and second super-diagonals a1, a2
  const a0 = new Float64Array(m).fill(1);
  const a1 = new Float64Array(m);
  const a2 = new Float64Array(m);
  for (let k = 0; k < m - 2; k++) {
    a0[k]! += rho;
    a0[k + 1]! += 4 * rho;
    a0[k + 2]! += rho;
    a1[k]! -= 2 * rho;
    a1[k + 1]! -= 2 * rho;
    a2[k]! += rho;
  }
  const d = new Float64Array(m);
  const l1 = new Float64Array(m);
  const l2 = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let di = a0[i]!;
    if (i >= 1) di -= l1[i - 1]! * l1[i - 1]! * d[i - 1]!;
    if (i >= 2) di -= l2[i - 2]! * l2[i - 2]! * d[i - 2]!;
    d[i] = di;
    l1[i] = (a1[i]! - (i >= 1 ? l2[i - 1]! * d[i - 1]! * l1[i - 1]! : 0)) / di;
    l2[i] = a2[i]! / di;
  }
  const x = Float64Array.from(y);
  const z = new Float64Array(m - 2);
  const u = new Float64Array(m - 2);
  const t = lambda / rho;
  for (let it = 0; it < iterations; it++) {
    for (let j = 0; j < m; j++) {
      let v = 0;
      if (j >= 2) v += z[j - 2]! - u[j - 2]!;
      if (j >= 1 && j - 1 < m - 2) v -= 2 * (z[j - 1]! - u[j - 1]!);
      if (j < m - 2) v += z[j]! - u[j]!;
      x[j] = y[j]! + rho * v;
    }
    for (let i = 1; i < m; i++) x[i] = x[i]! - l1[i - 1]! * x[i - 1]! - (i >= 2 ? l2[i - 2]! * x[i - 2]! : 0);
    for (let i = 0; i < m; i++) x[i] = x[i]! / d[i]!;
    for (let i = m - 2; i >= 0; i--) x[i] = x[i]! - l1[i]! * x[i + 1]! - (i + 2 < m ? l2[i]! * x[i + 2]! : 0);
    for (let k = 0; k < m - 2; k++) {
      const dx = x[k]! - 2 * x[k + 1]! + x[k + 2]!;
      const w = dx + u[k]!;
      z[k] = w > t ? w - t : w < -t ? w + t : 0;
      u[k] = w - z[k]!;
    }
  }
  return Float32Array.from(x);
}

type Variant = { name: string; gain: (x: Input, cfg: SportConfig) => number };
const slow = (s: string) => s === 'walking' || s === 'hiking';
const twoState = (name: string, qScale: number, h: (sport: string) => number): Variant => ({
  name,
  gain: (x, cfg) => {
    const alt = smoothAltitude(x.ts, x.alt, x.speed, x.ts.length, {
      ...cfg,
      altProcessNoise: cfg.altProcessNoise * qScale,
    });
    return gainLoss(alt, 0, alt.length, h(x.c.sport)).gain;
  },
});
const gradeState = (name: string, qScale: number, h: (sport: string) => number): Variant => ({
  name,
  gain: (x, cfg) => {
    const alt = smoothGrade(x, cfg.altProcessNoise * qScale, cfg.altSigmaM);
    return gainLoss(alt, 0, alt.length, h(x.c.sport)).gain;
  },
});
const biasState = (name: string, qScale: number, h: number): Variant => ({
  name,
  gain: (x, cfg) => {
    const alt = Float32Array.from(smoothWithBias(x, cfg.altProcessNoise * qScale, 1.6, 2.5, 30));
    return gainLoss(alt, 0, alt.length, h).gain;
  },
});
const slowH = (s: string) => (slow(s) ? 6 : 4);
const shipped = (x: Input, cfg: SportConfig) => smoothAltitude(x.ts, x.alt, x.speed, x.ts.length, cfg);
const VARIANTS: Variant[] = [
  // what counting at a threshold does to the noise-free profile: how much of the true gain is in
  // undulations smaller than the threshold (is the truth itself ill-posed at that scale?)
  {
    name: 'noise-free profile, hysteresis 0.5 m (truth check)',
    gain: (x) => gainLoss(x.trueAlt, 0, x.trueAlt.length, 0.5).gain,
  },
  {
    name: 'noise-free profile, hysteresis 1 m (truth check)',
    gain: (x) => gainLoss(x.trueAlt, 0, x.trueAlt.length, 1).gain,
  },
  {
    name: 'noise-free profile, hysteresis 2 m (truth check)',
    gain: (x) => gainLoss(x.trueAlt, 0, x.trueAlt.length, 2).gain,
  },
  { name: 'raw altitude, every rise (no smoothing)', gain: (x) => gainLoss(x.alt, 0, x.alt.length, 0).gain },
  {
    name: 'raw altitude, hysteresis 4 m run/ride, 6 m walk/hike',
    gain: (x) => gainLoss(x.alt, 0, x.alt.length, slowH(x.c.sport)).gain,
  },
  twoState('2026.11-1: Kalman q·v³, hysteresis 3 m', 1, () => 3),
  twoState('hysteresis 4 m', 1, () => 4),
  twoState('hysteresis 5 m', 1, () => 5),
  twoState('hysteresis 6 m', 1, () => 6),
  twoState('q ×0.5, hysteresis 4 m', 0.5, () => 4),
  twoState('q ×0.25, hysteresis 4 m', 0.25, () => 4),
  twoState('q ×2, hysteresis 5 m', 2, () => 5),
  biasState('+ AR(1) bias state (τ 30 s, σ 2.5 m), q ×2, hysteresis 2 m', 2, 2),
  biasState('+ AR(1) bias state (τ 30 s, σ 2.5 m), q ×4, hysteresis 2 m', 4, 2),
  gradeState('grade state (per metre of path), hysteresis 3 m', 1, () => 3),
  gradeState('grade state, hysteresis 4 m', 1, () => 4),
  gradeState('grade state, 4 m run/ride, 6 m walk/hike', 1, (s) => (slow(s) ? 6 : 4)),
  twoState('4 m run/ride, 5 m walk/hike', 1, (s) => (slow(s) ? 5 : 4)),
  twoState('2026.11-2: 4 m run/ride, 6 m walk/hike (shipped)', 1, (s) => (slow(s) ? 6 : 4)),
  {
    // the hysteresis count jumps by up to h when one swing crosses h; averaging over h smooths that
    name: 'shipped smoother, gain averaged over hysteresis 2–8 m',
    gain: (x, cfg) => {
      const a = shipped(x, cfg);
      let sum = 0;
      for (let k = 0; k < 9; k++) sum += gainLoss(a, 0, a.length, 2 + (6 * k) / 8).gain;
      return sum / 9;
    },
  },
  ...[
    [40, 4],
    [40, 6],
    [80, 2],
    [80, 4],
  ].map(([l, h]) => ({
    name: `distance grid 5 m, Gaussian σ ${l} m along the path, hysteresis ${h} m`,
    gain: (x: Input) => {
      const a = smoothOverDistance(x, 5, l!);
      return gainLoss(a, 0, a.length, h!).gain;
    },
  })),
  ...[
    [40, 6],
    [60, 4],
  ].map(([m, h]) => ({
    name: `distance grid 5 m, Savitzky–Golay (quadratic, ${(2 * m! + 1) * 5} m window), hysteresis ${h} m`,
    gain: (x: Input) => {
      const a = savitzkyGolay(distanceGrid(x, 5), m!);
      return gainLoss(a, 0, a.length, h!).gain;
    },
  })),
  ...[
    [300, 4],
    [500, 2],
  ].map(([l, h]) => ({
    name: `distance grid 5 m, L1 trend filtering λ ${l} (ADMM, 1000 iterations), hysteresis ${h} m`,
    gain: (x: Input) => {
      const a = l1TrendFilter(distanceGrid(x, 5), l!, 1000);
      return gainLoss(a, 0, a.length, h!).gain;
    },
  })),
  ...[
    [10, 4],
    [15, 4],
    [15, 0],
  ].map(([l, h]) => ({
    name: `distance grid 5 m, total-variation denoising λ ${l}, hysteresis ${h} m`,
    gain: (x: Input) => {
      const a = tvDenoise(distanceGrid(x, 5), l!);
      return gainLoss(a, 0, a.length, h!).gain;
    },
  })),
  ...[
    [1, 2],
    [4, 0.5],
    [4, 2],
  ].map(([qs, h]) => ({
    name: `oracle: + AR(1) noise state with the session's true τ and σ (2.51 m; white 1.64 m), q ×${qs}, hysteresis ${h} m`,
    gain: (x: Input, cfg: SportConfig) => {
      const a = Float32Array.from(
        smoothWithBias(x, cfg.altProcessNoise * qs!, 3 * Math.sqrt(0.3), 3 * Math.sqrt(0.7), x.altTauS),
      );
      return gainLoss(a, 0, a.length, h!).gain;
    },
  })),
];

const inputs = [
  ...accuracyCases().map((c) => load('accuracy', c)),
  ...heldOutCases().map((c) => load('held-out', c)),
  ...freshCases().map((c) => load('fresh', c)),
];
const SPORTS = ['running', 'cycling', 'walking', 'hiking'] as const;
const rows = VARIANTS.map((v) => {
  const errs = inputs.map((x) => {
    const cfg = sportConfig(x.c.sport, '2026.11-1');
    return {
      set: x.set,
      sport: x.c.sport,
      seed: x.c.seed,
      errPct: (v.gain(x, cfg) / x.truthGainM - 1) * 100,
    };
  });
  const stat = (set: SetName, sport?: string) => {
    const e = errs
      .filter((r) => r.set === set && (!sport || r.sport === sport))
      .map((r) => Math.abs(r.errPct));
    return { worst: Math.max(...e), over5: e.filter((a) => a > 5).length, of: e.length };
  };
  return {
    variant: v.name,
    accuracy: stat('accuracy'),
    heldOut: stat('held-out'),
    fresh: stat('fresh'),
    bySport: Object.fromEntries(
      SPORTS.map((s) => [
        s,
        { accuracy: stat('accuracy', s), heldOut: stat('held-out', s), fresh: stat('fresh', s) },
      ]),
    ),
    errs,
  };
});

const f = (s: { worst: number; over5: number; of: number }) => `${s.worst.toFixed(1)} (${s.over5}/${s.of})`;
const md = [
  'Cells: worst |gain error| % (sessions outside 5 %). Per sport: accuracy / held-out / fresh.',
  '',
  '| variant | 30 accuracy | 30 held-out | 60 fresh | running | cycling | walking | hiking |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.variant} | ${f(r.accuracy)} | ${f(r.heldOut)} | ${f(r.fresh)} | ${SPORTS.map((s) => `${f(r.bySport[s]!.accuracy)} / ${f(r.bySport[s]!.heldOut)} / ${f(r.bySport[s]!.fresh)}`).join(' | ')} |`,
  ),
  '',
].join('\n');
const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'pipeline-elevation.json'), `${JSON.stringify(rows, null, 2)}\n`);
writeFileSync(join(here, 'results', 'pipeline-elevation.md'), `# Elevation gain variants\n\n${md}`);
console.log(md);
