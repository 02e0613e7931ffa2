import { DEG, haversine, haversineCos } from '../primitives/geo.js';
import { FLAG_PAUSED } from '../types.js';
import { isPlausibleCoord } from './clean-gps.js';

/**
 * Distance: great-circle (haversine, primitives/geo) length of the smoothed track, the raw track
 * for comparison, and the device's own counter.
 */

/**
 * Cumulative distance along the smoothed track. An interval (i-1, i) contributes when both ends
 * have a smoothed position, it lies in the same filter segment, and row i is not paused (explicit
 * or auto-pause: jitter while standing is not distance). Writes `out[i]` = metres up to row i.
 */
export function cumulativeDistance(
  lat: Float64Array,
  lon: Float64Array,
  segment: Int32Array,
  flags: Uint8Array,
  n: number,
  out: Float64Array,
): number {
  let total = 0;
  let prev = -1;
  let cosPrev = 0;
  for (let i = 0; i < n; i++) {
    const la = lat[i]!;
    if (Number.isNaN(la)) {
      out[i] = total;
      continue;
    }
    const cosCur = Math.cos(la * DEG);
    if (prev >= 0 && segment[i] === segment[prev] && (flags[i]! & FLAG_PAUSED) === 0) {
      total += haversineCos(lat[prev]!, lon[prev]!, cosPrev, la, lon[i]!, cosCur);
    }
    out[i] = total;
    prev = i;
    cosPrev = cosCur;
  }
  return total;
}

/** What cumulativeDistance needs for pauseNetDisplacement (2026.12-3). */
export interface PauseNet {
  /** 1 on rows that auto-pause flagged (moving-time.ts) */
  autoPaused: Uint8Array;
  /** accuracy (m, 1σ) of each row's fix as the smoother used it */
  accuracy: (row: number) => number;
  /** the net displacement counts when it exceeds this many σ of the two ends' combined noise */
  minSigmas: number;
}

/**
 * cumulativeDistance, and across each auto-paused stretch (inside one segment) the net displacement
 * of the smoothed track from the row before it to its last row, where that exceeds `net.minSigmas`
 * × the two fixes' combined noise. Auto-pause says the athlete stood; where the track resumes
 * elsewhere they went there, slowly (a hike climbing at 0.1 m/s in a 10 s log, the GPSMAP 64s: 778 m
 * of net displacement over 1 380 m of paused path). The back-and-forth while standing stays out.
 * The displacement is added on the stretch's last row.
 */
export function cumulativeDistanceNet(
  lat: Float64Array,
  lon: Float64Array,
  segment: Int32Array,
  flags: Uint8Array,
  n: number,
  out: Float64Array,
  net: PauseNet,
): number {
  let total = 0;
  let prev = -1;
  let cosPrev = 0;
  // the row before the current auto-paused stretch (-1: none open)
  let anchor = -1;
  const close = (last: number): void => {
    const d = haversine(lat[anchor]!, lon[anchor]!, lat[last]!, lon[last]!);
    const a0 = net.accuracy(anchor);
    const a1 = net.accuracy(last);
    if (d > net.minSigmas * Math.sqrt(a0 * a0 + a1 * a1)) {
      total += d;
      out[last] = total;
    }
    anchor = -1;
  };
  for (let i = 0; i < n; i++) {
    const la = lat[i]!;
    if (Number.isNaN(la)) {
      out[i] = total;
      continue;
    }
    const cosCur = Math.cos(la * DEG);
    const sameSeg = prev >= 0 && segment[i] === segment[prev];
    if (anchor >= 0 && (!sameSeg || net.autoPaused[i] === 0)) close(prev);
    if (sameSeg) {
      if ((flags[i]! & FLAG_PAUSED) === 0) {
        total += haversineCos(lat[prev]!, lon[prev]!, cosPrev, la, lon[i]!, cosCur);
      } else if (net.autoPaused[i] === 1 && anchor < 0) anchor = prev;
    }
    out[i] = total;
    prev = i;
    cosPrev = cosCur;
  }
  if (anchor >= 0) close(prev);
  return total;
}

/**
 * Raw distance for comparison: haversine over every fix that is a plausible coordinate (jumps, poor
 * accuracy and noise included, nothing smoothed, pauses ignored) — what a naive tracker reports.
 */
export function rawDistance(latE7: Int32Array, lonE7: Int32Array, n: number): number {
  let total = 0;
  let prevLat = 0;
  let prevLon = 0;
  let cosPrev = 0;
  let has = false;
  for (let i = 0; i < n; i++) {
    if (!isPlausibleCoord(latE7[i]!, lonE7[i]!)) continue;
    const la = latE7[i]! * 1e-7;
    const lo = lonE7[i]! * 1e-7;
    const cosCur = Math.cos(la * DEG);
    if (has) total += haversineCos(prevLat, prevLon, cosPrev, la, lo, cosCur);
    prevLat = la;
    prevLon = lo;
    cosPrev = cosCur;
    has = true;
  }
  return total;
}

/** Device-reported distance: the span of the device's cumulative counter, or null when absent. */
export function deviceDistance(dist: Float32Array, n: number): number | null {
  let first = Number.NaN;
  let max = Number.NaN;
  for (let i = 0; i < n; i++) {
    const d = dist[i]!;
    if (Number.isNaN(d)) continue;
    if (Number.isNaN(first)) first = d;
    if (!(d <= max)) max = d;
  }
  if (Number.isNaN(first)) return null;
  // Devices count from 0 at the start; if the first received sample already had distance (the
  // opening samples were lost), the counter's maximum is still the session's distance.
  return max;
}

/** Cumulative distance from the device counter when there is no GPS track (treadmill, indoor). */
export function deviceCumulative(d: Float32Array, n: number, out: Float64Array): number {
  let base = Number.NaN;
  let cur = 0;
  for (let i = 0; i < n; i++) {
    const v = d[i]!;
    if (!Number.isNaN(v)) {
      if (Number.isNaN(base)) base = v;
      // a counter never goes backwards; a reset or glitch does not subtract distance
      if (v - base > cur) cur = v - base;
    }
    out[i] = cur;
  }
  return cur;
}

/**
 * Whether the device's distance counter can stand for the session's distance: present on at least
 * half the rows and rising (a counter stuck at 0, as some files write without a sensor, is not one).
 */
export function hasOdometer(d: Float32Array, n: number): boolean {
  let rows = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = d[i]!;
    if (Number.isNaN(v)) continue;
    rows++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return rows * 2 >= n && rows > 0 && max > min;
}
