import type { SessionControl } from '../../schemas/types.js';
import type { SportConfig } from '../config.js';
import { haversine } from '../primitives/geo.js';
import { FLAG_PAUSED } from '../types.js';

/**
 * Moving time vs elapsed time.
 *
 * Each interval between consecutive rows (k-1, k) is moving or paused; FLAG_PAUSED on row k marks
 * a paused interval, and paused intervals add neither moving time nor distance.
 * 1. Explicit device pause wins: an interval is paused when the device's pause/resume/end state in
 *    effect just before ts[k] is "paused" (controls strictly before ts[k], duplicates ignored).
 * 2. Auto-pause elsewhere: an interval is stopped when the smoothed speed (mean of both ends; the
 *    device speed where there is no GPS track) is below the sport's `pauseSpeedMps`. A run of
 *    stopped intervals becomes a pause only when it lasts at least `minPauseS` — a traffic-light
 *    hesitation of two seconds is still moving. With no speed at all an interval is moving, unless
 *    it is a gap longer than `maxGapS` (the device stopped sending).
 * 3. With `gapByDisplacement` (2026.12-1), a gap longer than `maxGapS` is moving only when the
 *    displacement over it (smoothed track; else the device odometer) at `pauseSpeedMps` or more
 *    says so, whatever the speeds at its ends: a device auto-pause leaves such a gap, and its end
 *    speeds are those of the athlete stopping and starting again (Wahoo ELEMNT ride: a 178 s gap
 *    over 5 m counted 178 s of moving time).
 * Elapsed time is last minus first device time. `autoPaused`, when given, gets 1 on the rows that
 * auto-pause flagged (not the device's own pauses).
 */
export interface MovingTimeResult {
  elapsedS: number;
  movingS: number;
  explicitPausedS: number;
  autoPausedS: number;
}

/** Paused ranges [from, to) in device time from pause/resume/end controls, order-insensitive. */
export function explicitPauses(controls: readonly SessionControl[]): Float64Array {
  const evs = controls
    .filter((c) => c.kind === 'pause' || c.kind === 'resume' || c.kind === 'end')
    .map((c) => ({ ts: c.ts, k: c.kind === 'resume' ? 1 : 0 }))
    // at equal ts a pause/end sorts before a resume: "pause then resume" in the same ms is a no-op
    .sort((a, b) => a.ts - b.ts || a.k - b.k);
  const out: number[] = [];
  let pausedAt = Number.NaN;
  for (const e of evs) {
    if (e.k === 0) {
      if (Number.isNaN(pausedAt)) pausedAt = e.ts;
    } else if (!Number.isNaN(pausedAt)) {
      out.push(pausedAt, e.ts);
      pausedAt = Number.NaN;
    }
  }
  if (!Number.isNaN(pausedAt)) out.push(pausedAt, Number.POSITIVE_INFINITY);
  return Float64Array.from(out);
}

/** What a gap's displacement is read from (gapByDisplacement): smoothed track and device odometer. */
export interface GapTrack {
  lat: Float64Array;
  lon: Float64Array;
  dist: Float32Array;
}

export function movingTime(
  ts: Float64Array,
  speed: Float32Array,
  deviceSpeed: Float32Array,
  n: number,
  pauses: Float64Array,
  cfg: SportConfig,
  flags: Uint8Array,
  track: GapTrack | null = null,
  autoPaused: Uint8Array | null = null,
): MovingTimeResult {
  if (n === 0) return { elapsedS: 0, movingS: 0, explicitPausedS: 0, autoPausedS: 0 };
  const elapsedS = (ts[n - 1]! - ts[0]!) * 0.001;
  const thr = cfg.pauseSpeedMps;
  const minPause = cfg.minPauseS;
  let movingS = 0;
  let explicitPausedS = 0;
  let autoPausedS = 0;
  let p = 0; // index into pauses (pairs)
  // current run of stopped intervals: first row and accumulated seconds
  let runStart = -1;
  let runS = 0;
  const closeRun = (end: number): void => {
    if (runStart < 0) return;
    if (runS >= minPause) {
      for (let k = runStart; k < end; k++) flags[k]! |= FLAG_PAUSED;
      if (autoPaused !== null) autoPaused.fill(1, runStart, end);
      autoPausedS += runS;
    } else {
      movingS += runS;
    }
    runStart = -1;
    runS = 0;
  };
  for (let k = 1; k < n; k++) {
    const t = ts[k]!;
    const dt = (t - ts[k - 1]!) * 0.001;
    while (p < pauses.length && pauses[p + 1]! < t) p += 2;
    // explicit pause in effect just before t: a range [from, to) with from < t <= to
    if (p < pauses.length && pauses[p]! < t) {
      closeRun(k);
      flags[k]! |= FLAG_PAUSED;
      explicitPausedS += dt;
      continue;
    }
    if (track !== null && dt > cfg.maxGapS && cfg.gapByDisplacement) {
      if (gapDisplacement(track, k) < thr * dt) {
        if (runStart < 0) runStart = k;
        runS += dt;
      } else {
        closeRun(k);
        movingS += dt;
      }
      continue;
    }
    let s0 = speed[k - 1]!;
    let s1 = speed[k]!;
    if (Number.isNaN(s0)) s0 = deviceSpeed[k - 1]!;
    if (Number.isNaN(s1)) s1 = deviceSpeed[k]!;
    let stopped: boolean;
    if (!Number.isNaN(s0) && !Number.isNaN(s1)) stopped = (s0 + s1) * 0.5 < thr;
    else if (!Number.isNaN(s0) || !Number.isNaN(s1)) stopped = (!Number.isNaN(s0) ? s0 : s1) < thr;
    else stopped = dt > cfg.maxGapS;
    if (stopped) {
      if (runStart < 0) runStart = k;
      runS += dt;
    } else {
      closeRun(k);
      movingS += dt;
    }
  }
  closeRun(n);
  return { elapsedS, movingS, explicitPausedS, autoPausedS };
}

/** Metres covered over the interval (k-1, k): smoothed track, else the odometer, else 0. */
function gapDisplacement(t: GapTrack, k: number): number {
  const la0 = t.lat[k - 1]!;
  const la1 = t.lat[k]!;
  if (!Number.isNaN(la0) && !Number.isNaN(la1)) return haversine(la0, t.lon[k - 1]!, la1, t.lon[k]!);
  const d = t.dist[k]! - t.dist[k - 1]!;
  return Number.isNaN(d) ? 0 : d;
}
