import type { SportConfig } from '../config.js';
import { Cv2, rtsSmooth } from '../primitives/kalman.js';
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
  gainM: number;
  lossM: number;
  minM: number | null;
  maxM: number | null;
}

const GATE_CHI2_1D = 25;
const scratch = new ScratchPool();

export function smoothAltitude(
  ts: Float64Array,
  altRaw: Float32Array,
  speed: Float32Array,
  n: number,
  cfg: SportConfig,
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
  const r = cfg.altSigmaM * cfg.altSigmaM;
  let first = -1;
  for (let i = 0; i < n; i++) {
    const z = altRaw[i]!;
    if (first < 0) {
      if (Number.isNaN(z)) continue;
      first = i;
      kf.init(z, 0, r, 1);
    } else {
      // Terrain is a function of distance, so vertical motion needs horizontal motion: process
      // noise white in distance is q·v³ in time (v: smoothed horizontal speed; unknown -> 3 m/s).
      let v = speed[i]!;
      if (Number.isNaN(v)) v = 3;
      kf.predictRts((ts[i]! - ts[i - 1]!) * 0.001, q * (v * v * v + 1e-4), i, c00, c01, c10, c11);
      if (!Number.isNaN(z)) {
        const e = z - kf.x;
        if ((e * e) / (kf.p00 + r) <= GATE_CHI2_1D) kf.update(z, 0, r);
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
  const alt = smoothAltitude(ts, altRaw, speed, n, cfg);
  const { gain, loss } = gainLoss(alt, 0, n, cfg.elevHysteresisM);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const a = alt[i]!;
    if (a < min) min = a;
    if (a > max) max = a;
  }
  const has = min <= max;
  return { alt, gainM: gain, lossM: loss, minM: has ? min : null, maxM: has ? max : null };
}
