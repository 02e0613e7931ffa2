import type { SportConfig } from '../config.js';
import { Cv2, rtsSmooth } from '../primitives/kalman.js';
import { NoiseEstimator } from '../primitives/noise.js';
import { ScratchPool } from '../primitives/scratch.js';

/**
 * Elevation: altitude smoothed by the same constant-velocity Kalman + RTS smoother as positions
 * (one axis; `altProcessNoise`, `altSigmaM`; a 5-sigma innovation gate drops altitude spikes), then
 * gain/loss by hysteresis on the smoothed profile: a climb or descent counts only once it has
 * reversed by at least `elevHysteresisM`, so residual wiggles never add up. Min/max come from the
 * smoothed profile (a single noisy reading is not a summit).
 */
export interface ElevationResult {
  /** smoothed altitude m, NaN before the first altitude */
  alt: Float32Array;
  /** the hysteresis the gain was counted with (laps and splits count theirs with the same) */
  hysteresisM: number;
  gainM: number;
  lossM: number;
  minM: number | null;
  maxM: number | null;
}

const GATE_CHI2_1D = 25;
const scratch = new ScratchPool();

/**
 * The altitude readings' noise (m, 1σ) for `estimateAltSigma`: the NoiseEstimator over consecutive
 * readings up to `maxGapS` apart. A profile quieter than `altQuietSigmaM` is smoothed as its own
 * noise (floored at `altSigmaMinM`), anything noisier as the sport's `altSigmaM`. Every real
 * recording of the corpus estimates 0.01–0.36 m (barometric altimeters write a profile smooth to
 * their 0.2 m resolution, and devices filter their GPS altitude too), and smoothing those as 3 m
 * noise flattened real climbs; GPS-like noise of σ 3 m (bench/synth, correlated over 10–30 s)
 * estimates 1.6–1.8 m and keeps the smoothing it was tuned with.
 */
export function estimateAltSigma(
  ts: Float64Array,
  altRaw: Float32Array,
  n: number,
  cfg: SportConfig,
): number {
  const est = new NoiseEstimator(0.01, 20);
  let z0 = 0;
  let z1 = 0;
  let t0 = 0;
  let t1 = 0;
  let have = 0;
  for (let i = 0; i < n; i++) {
    const z = altRaw[i]!;
    if (Number.isNaN(z)) continue;
    const t = ts[i]! * 0.001;
    if (have > 0 && (t - t1 > cfg.maxGapS || t <= t1)) have = 0;
    if (have >= 2) est.add(z0, z1, z, t1 - t0, t - t1);
    z0 = z1;
    t0 = t1;
    z1 = z;
    t1 = t;
    have++;
  }
  const sigma = est.sigma(20);
  return Number.isNaN(sigma) || sigma >= cfg.altQuietSigmaM
    ? cfg.altSigmaM
    : Math.max(sigma, cfg.altSigmaMinM);
}

export function smoothAltitude(
  ts: Float64Array,
  altRaw: Float32Array,
  speed: Float32Array,
  n: number,
  cfg: SportConfig,
  sigmaM: number = cfg.altSigmaM,
): Float32Array {
  const out = new Float32Array(n).fill(Number.NaN);
  const [fz, fv, c00, c01, c10, c11] = scratch.take(6, n) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const kf = new Cv2();
  const q = cfg.altProcessNoise;
  const r = sigmaM * sigmaM;
  // the spike gate keeps the sport's σ: a quiet profile's own σ (0.5 m) would reject the terrain
  // itself wherever the v³ process noise lags it
  const rGate = cfg.altSigmaM * cfg.altSigmaM;
  const breakGapS = cfg.altBreakGapS;
  let first = -1;
  for (let i = 0; i < n; i++) {
    const z = altRaw[i]!;
    if (first < 0) {
      if (Number.isNaN(z)) continue;
      first = i;
      kf.init(z, 0, r, 1);
    } else if (breakGapS > 0 && !Number.isNaN(z) && ts[i]! - ts[i - 1]! > breakGapS * 1000) {
      // a gap in the recording (auto-pause, signal loss): the vertical rate before it says nothing
      // about the altitude after it (carried through a 1 h café stop of the Wahoo ride, it predicted
      // hundreds of metres), so the profile starts again on the first reading after the gap
      kf.init(z, 0, r, 1);
      c00[i] = 0;
      c01[i] = 0;
      c10[i] = 0;
      c11[i] = 0;
    } else {
      // Terrain is a function of distance, so vertical motion needs horizontal motion: process
      // noise white in distance is q·v³ in time (v: smoothed horizontal speed; unknown -> 3 m/s).
      let v = speed[i]!;
      if (Number.isNaN(v)) v = 3;
      kf.predictRts((ts[i]! - ts[i - 1]!) * 0.001, q * (v * v * v + 1e-4), i, c00, c01, c10, c11);
      if (!Number.isNaN(z)) {
        const e = z - kf.x;
        if ((e * e) / (kf.p00 + rGate) <= GATE_CHI2_1D) kf.update(z, 0, r);
      }
    }
    fz[i] = kf.x;
    fv[i] = kf.vx;
  }
  if (first < 0) return out;
  rtsSmooth(ts, null, first, n, fz, fv, c00, c01, c10, c11);
  for (let i = first; i < n; i++) out[i] = fz[i]!;
  return out;
}

/** Hysteresis gain/loss over rows [from, to) of a smoothed profile. */
export function gainLoss(
  alt: Float32Array,
  from: number,
  to: number,
  h: number,
): { gain: number; loss: number } {
  let gain = 0;
  let loss = 0;
  let dir = 0;
  let lo = Number.NaN;
  let hi = Number.NaN;
  let anchor = 0;
  let ext = 0;
  for (let i = from; i < to; i++) {
    const a = alt[i]!;
    if (Number.isNaN(a)) continue;
    if (dir === 0) {
      if (Number.isNaN(lo)) {
        lo = a;
        hi = a;
        continue;
      }
      if (a < lo) lo = a;
      if (a > hi) hi = a;
      if (a - lo >= h) {
        dir = 1;
        anchor = lo;
        ext = a;
      } else if (hi - a >= h) {
        dir = -1;
        anchor = hi;
        ext = a;
      }
    } else if (dir > 0) {
      if (a > ext) ext = a;
      else if (ext - a >= h) {
        gain += ext - anchor;
        anchor = ext;
        dir = -1;
        ext = a;
      }
    } else {
      if (a < ext) ext = a;
      else if (a - ext >= h) {
        loss += anchor - ext;
        anchor = ext;
        dir = 1;
        ext = a;
      }
    }
  }
  if (dir > 0) gain += ext - anchor;
  else if (dir < 0) loss += anchor - ext;
  return { gain, loss };
}

export function elevation(
  ts: Float64Array,
  altRaw: Float32Array,
  speed: Float32Array,
  n: number,
  cfg: SportConfig,
): ElevationResult {
  // 2026.12-1: noise estimated from the profile, and a hysteresis of elevHysteresisPerSigma σ within
  // [elevHysteresisMinM, elevHysteresisM], so a quiet barometric profile counts its small rollers
  let sigma = cfg.altSigmaM;
  let h = cfg.elevHysteresisM;
  if (cfg.estimateAltSigma) {
    sigma = estimateAltSigma(ts, altRaw, n, cfg);
    h = Math.min(Math.max(cfg.elevHysteresisPerSigma * sigma, cfg.elevHysteresisMinM), cfg.elevHysteresisM);
  }
  const alt = smoothAltitude(ts, altRaw, speed, n, cfg, sigma);
  const { gain, loss } = gainLoss(alt, 0, n, h);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const a = alt[i]!;
    if (a < min) min = a;
    if (a > max) max = a;
  }
  const has = min <= max;
  return { alt, hysteresisM: h, gainM: gain, lossM: loss, minM: has ? min : null, maxM: has ? max : null };
}
