import { FLAG_PAUSED as FLAG_PAUSED_ } from '../types.js';
import { isPlausibleCoord as isPlausibleCoord_ } from './clean-gps.js';

// Module-local copies: imported bindings can compile to getter calls in hot loops (seen under tsx).
const FLAG_PAUSED = FLAG_PAUSED_;
const isPlausibleCoord = isPlausibleCoord_;

/**
 * Distance: great-circle (haversine) length of a track on a sphere of the IUGG mean Earth radius
 * R1 = 6 371 008.8 m. Against the WGS84 ellipsoid the sphere errs by < 0.5 % on a single segment
 * (worst north–south at the poles/equator), and by far less on mixed headings; the error is
 * systematic and tiny next to GPS noise, so it is the industry-standard choice.
 */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

/** Haversine distance in metres between two WGS84 points (degrees). */
export function haversine(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const p1 = lat1 * RAD;
  const p2 = lat2 * RAD;
  const sdp = Math.sin((p2 - p1) * 0.5);
  const sdl = Math.sin((lon2 - lon1) * RAD * 0.5);
  const h = sdp * sdp + Math.cos(p1) * Math.cos(p2) * sdl * sdl;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(h, 1)));
}

/** Haversine with the cosines of both latitudes supplied (a track reuses each one twice). */
export function haversineCos(
  lat1: number,
  lon1: number,
  cos1: number,
  lat2: number,
  lon2: number,
  cos2: number,
): number {
  const sdp = Math.sin((lat2 - lat1) * RAD * 0.5);
  const sdl = Math.sin((lon2 - lon1) * RAD * 0.5);
  const h = sdp * sdp + cos1 * cos2 * sdl * sdl;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(h, 1)));
}

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
    const cosCur = Math.cos(la * RAD);
    if (prev >= 0 && segment[i] === segment[prev] && (flags[i]! & FLAG_PAUSED) === 0) {
      total += haversineCos(lat[prev]!, lon[prev]!, cosPrev, la, lon[i]!, cosCur);
    }
    out[i] = total;
    prev = i;
    cosPrev = cosCur;
  }
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
    const cosCur = Math.cos(la * RAD);
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
