import { FLAG_PAUSED as FLAG_PAUSED_, type Track } from '../types.js';

// Module-local copies: imported bindings can compile to getter calls in hot loops (seen under tsx).
const FLAG_PAUSED = FLAG_PAUSED_;

/**
 * Pace and speed. Average speed = cleaned distance / moving time. Max speed = the highest smoothed
 * (Kalman/RTS) speed over moving rows — after cleaning, so a jump cannot set it. Pace is its
 * inverse in s/km, null when nothing moved.
 */
export interface PaceResult {
  avgSpeedMps: number;
  maxSpeedMps: number;
  avgPaceSPerKm: number | null;
}

export function paceFromTotals(distanceM: number, movingS: number): number | null {
  return distanceM > 0 && movingS > 0 ? (movingS * 1000) / distanceM : null;
}

export function pace(t: Track, distanceM: number, movingS: number): PaceResult {
  let max = 0;
  for (let i = 1; i < t.n; i++) {
    if (t.flags[i]! & FLAG_PAUSED) continue;
    const s = t.speed[i]!;
    if (s > max) max = s;
  }
  const avg = movingS > 0 ? distanceM / movingS : 0;
  return { avgSpeedMps: avg, maxSpeedMps: max, avgPaceSPerKm: paceFromTotals(distanceM, movingS) };
}

/** Value of a per-row series at device time t (linear between rows, clamped at the ends). */
export function atTime(ts: Float64Array, series: Float64Array, n: number, t: number): number {
  const i = lowerBound(ts, n, t);
  if (i >= n) return series[n - 1]!;
  if (i === 0 || ts[i] === t) return series[i]!;
  const t0 = ts[i - 1]!;
  return series[i - 1]! + ((series[i]! - series[i - 1]!) * (t - t0)) / (ts[i]! - t0);
}

/** First index with a[i] >= v over [0, n) (a non-decreasing). */
export function lowerBound(a: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m]! < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Linear interpolation of a series at fractional row position pos. */
export function interp(series: Float64Array, pos: number): number {
  const i = Math.floor(pos);
  const f = pos - i;
  const a = series[i]!;
  return f === 0 ? a : a + (series[i + 1]! - a) * f;
}
