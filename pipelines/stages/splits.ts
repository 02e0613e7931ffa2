import { interp } from '../primitives/series.js';
import type { Split, Track } from '../types.js';
import { gainLoss } from './elevation.js';
import { paceFromTotals } from './pace.js';

/**
 * Automatic splits every `splitM` metres of cleaned distance (1000 m and 1609.344 m). Boundaries
 * fall between rows: the time and moving time at the exact crossing are interpolated linearly, so
 * split times add up to the whole. The last split is the remainder (dropped when under 1 m).
 */
export const MILE_M = 1609.344;

export interface RangeStats {
  elapsedS: number;
  movingS: number;
  distanceM: number;
  avgHr: number | null;
  maxHr: number | null;
  elevGainM: number;
  elevLossM: number;
}

/** Stats between two fractional row positions. */
export function rangeStats(t: Track, from: number, to: number): RangeStats {
  const elapsedS = (interp(t.ts, to) - interp(t.ts, from)) * 0.001;
  const movingS = interp(t.moving, to) - interp(t.moving, from);
  const distanceM = interp(t.dist, to) - interp(t.dist, from);
  const a = Math.ceil(from);
  const b = Math.floor(to);
  let s = 0;
  let c = 0;
  let max = 0;
  for (let i = a; i <= b; i++) {
    const h = t.hr[i]!;
    if (Number.isNaN(h)) continue;
    s += h;
    c++;
    if (h > max) max = h;
  }
  const { gain, loss } = gainLoss(
    t.alt,
    Math.floor(from),
    Math.min(t.n, Math.ceil(to) + 1),
    t.elevHysteresisM,
  );
  return {
    elapsedS,
    movingS,
    distanceM,
    avgHr: c > 0 ? s / c : null,
    maxHr: c > 0 ? max : null,
    elevGainM: gain,
    elevLossM: loss,
  };
}

export function splits(t: Track, splitM: number): Split[] {
  const n = t.n;
  const out: Split[] = [];
  if (n < 2) return out;
  const d = t.dist;
  const total = d[n - 1]!;
  let from = 0;
  let j = 1;
  for (let k = 1; ; k++) {
    const target = k * splitM;
    let to: number;
    if (target > total) {
      if (total - (k - 1) * splitM < 1) break;
      to = n - 1;
    } else {
      while (d[j]! < target) j++;
      const d0 = d[j - 1]!;
      const span = d[j]! - d0;
      to = span > 0 ? j - 1 + (target - d0) / span : j;
    }
    const r = rangeStats(t, from, to);
    out.push({
      index: k - 1,
      distanceM: r.distanceM,
      elapsedS: r.elapsedS,
      movingS: r.movingS,
      paceSPerKm: paceFromTotals(r.distanceM, r.movingS),
      avgSpeedMps: r.movingS > 0 ? r.distanceM / r.movingS : 0,
      avgHr: r.avgHr,
      elevGainM: r.elevGainM,
      elevLossM: r.elevLossM,
    });
    if (to >= n - 1) break;
    from = to;
  }
  return out;
}
