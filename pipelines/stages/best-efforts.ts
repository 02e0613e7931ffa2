import type { Sport } from '../../schemas/types.js';
import { RIDE_BEST_EFFORTS_S, RUN_BEST_EFFORTS_M } from '../config.js';
import { type BestEffort, type Track, U16_NONE } from '../types.js';

/**
 * Best efforts, by two pointers over the cleaned cumulative series (O(n) per target).
 * - Foot sports: the shortest elapsed time to cover 400 m, 1 km, 1 mile, 5 km, 10 km, half and full
 *   marathon, with the start interpolated to the exact distance.
 * - Cycling: the best average speed over 5, 20 and 60 minutes, and the best average power over the
 *   same window when the device reports power (missing power counts as 0 W, as head units do).
 * Elapsed (not moving) time: a best effort is what the clock showed.
 */
const DISTANCE_NAMES: Record<number, string> = {
  400: '400 m',
  1000: '1 km',
  1609.344: '1 mile',
  5000: '5 km',
  10000: '10 km',
  21097.5: 'half marathon',
  42195: 'marathon',
};

export function bestEfforts(t: Track, sport: Sport): BestEffort[] {
  if (sport === 'cycling') return durationEfforts(t);
  if (sport === 'strength') return [];
  return distanceEfforts(t);
}

function distanceEfforts(t: Track): BestEffort[] {
  const { n, ts, dist } = t;
  const out: BestEffort[] = [];
  if (n < 2) return out;
  const total = dist[n - 1]!;
  for (const D of RUN_BEST_EFFORTS_M) {
    if (D > total) break;
    let best = Number.POSITIVE_INFINITY;
    let bestStart = 0;
    let bestEnd = 0;
    let i = 0;
    for (let j = 1; j < n; j++) {
      const target = dist[j]! - D;
      if (target < 0) continue;
      while (dist[i + 1]! <= target) i++;
      // the start lies in [ts[i], ts[i + 1]], so the window lasts at least ts[j] - ts[i + 1]
      if (ts[j]! - ts[i + 1]! >= best) continue;
      const d0 = dist[i]!;
      const span = dist[i + 1]! - d0;
      const tStart = span > 0 ? ts[i]! + ((ts[i + 1]! - ts[i]!) * (target - d0)) / span : ts[i]!;
      const dur = ts[j]! - tStart;
      if (dur < best) {
        best = dur;
        bestStart = tStart;
        bestEnd = ts[j]!;
      }
    }
    if (best === Number.POSITIVE_INFINITY) continue;
    const durationS = best * 0.001;
    out.push({
      kind: 'distance',
      name: DISTANCE_NAMES[D] ?? `${D} m`,
      distanceM: D,
      durationS,
      startTs: Math.round(bestStart),
      endTs: bestEnd,
      avgSpeedMps: durationS > 0 ? D / durationS : 0,
      avgPowerW: null,
    });
  }
  return out;
}

function durationEfforts(t: Track): BestEffort[] {
  const { n, ts, dist, power } = t;
  const out: BestEffort[] = [];
  if (n < 2) return out;
  // cumulative energy (J); each row's power holds over the interval that ends at it
  let hasPower = false;
  const energy = new Float64Array(n);
  for (let k = 1; k < n; k++) {
    const p = power[k]!;
    const w = p === U16_NONE ? 0 : p;
    if (p !== U16_NONE) hasPower = true;
    energy[k] = energy[k - 1]! + (w * (ts[k]! - ts[k - 1]!)) / 1000;
  }
  for (const W of RIDE_BEST_EFFORTS_S) {
    const wMs = W * 1000;
    if (ts[n - 1]! - ts[0]! < wMs) break;
    let bestD = -1;
    let bestE = -1;
    let bestEnd = 0;
    let i = 0;
    for (let j = 1; j < n; j++) {
      const tStart = ts[j]! - wMs;
      if (tStart < ts[0]!) continue;
      while (ts[i + 1]! <= tStart) i++;
      const span = ts[i + 1]! - ts[i]!;
      const f = span > 0 ? (tStart - ts[i]!) / span : 0;
      const d = dist[j]! - (dist[i]! + (dist[i + 1]! - dist[i]!) * f);
      const e = energy[j]! - (energy[i]! + (energy[i + 1]! - energy[i]!) * f);
      if (d > bestD) {
        bestD = d;
        bestEnd = ts[j]!;
      }
      if (e > bestE) bestE = e;
    }
    out.push({
      kind: 'duration',
      name: W < 60 ? `${W} s` : `${W / 60} min`,
      distanceM: bestD,
      durationS: W,
      startTs: bestEnd - wMs,
      endTs: bestEnd,
      avgSpeedMps: bestD / W,
      avgPowerW: hasPower ? bestE / W : null,
    });
  }
  return out;
}
