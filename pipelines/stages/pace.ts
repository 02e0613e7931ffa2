import { FLAG_PAUSED, type Track } from '../types.js';

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
