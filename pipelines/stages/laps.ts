import type { SessionControl } from '../../schemas/types.js';
import { lowerBound } from '../primitives/series.js';
import { FLAG_LAP, type Lap, type Track } from '../types.js';
import { rangeStats } from './splits.js';

/**
 * Laps from device markers: a sample with `lap: true` or a `lap` control closes the current lap at
 * that device time. Markers are deduplicated by time and sorted, so replays and reordering do not
 * change laps. Without markers the whole session is one lap.
 */
export function lapBoundaries(t: Track, controls: readonly SessionControl[]): number[] {
  const n = t.n;
  if (n === 0) return [];
  const first = t.ts[0]!;
  const last = t.ts[n - 1]!;
  const marks = new Set<number>();
  for (let i = 0; i < n; i++) if (t.flags[i]! & FLAG_LAP) marks.add(t.ts[i]!);
  for (const c of controls) if (c.kind === 'lap') marks.add(c.ts);
  const inner = [...marks].filter((m) => m > first && m < last).sort((a, b) => a - b);
  return [first, ...inner, last];
}

export function laps(t: Track, controls: readonly SessionControl[]): Lap[] {
  const b = lapBoundaries(t, controls);
  const out: Lap[] = [];
  for (let k = 0; k + 1 < b.length; k++) {
    const from = rowPos(t, b[k]!);
    const to = rowPos(t, b[k + 1]!);
    const r = rangeStats(t, from, to);
    out.push({
      index: k,
      startTs: b[k]!,
      endTs: b[k + 1]!,
      elapsedS: r.elapsedS,
      movingS: r.movingS,
      distanceM: r.distanceM,
      avgSpeedMps: r.movingS > 0 ? r.distanceM / r.movingS : 0,
      avgHr: r.avgHr,
      maxHr: r.maxHr,
      elevGainM: r.elevGainM,
    });
  }
  return out;
}

/** Fractional row position of device time ts. */
function rowPos(t: Track, ts: number): number {
  const i = lowerBound(t.ts, t.n, ts);
  if (i >= t.n) return t.n - 1;
  if (i === 0 || t.ts[i] === ts) return i;
  const t0 = t.ts[i - 1]!;
  return i - 1 + (ts - t0) / (t.ts[i]! - t0);
}
