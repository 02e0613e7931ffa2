import { FLAG_PAUSED } from '../types.js';
import { isPlausibleCoord } from './clean-gps.js';

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
  for (let i = 0; i < n; i++) {
    const la = lat[i]!;
    if (Number.isNaN(la)) {
      out[i] = total;
      continue;
    }
    if (prev >= 0 && segment[i] === segment[prev] && (flags[i]! & FLAG_PAUSED) === 0) {
      total += haversine(lat[prev]!, lon[prev]!, la, lon[i]!);
    }
    out[i] = total;
    prev = i;
  }
  return total;
}

/**
 * Raw distance for comparison: haversine over every fix that is a plausible coordinate (jumps, poor
 * accuracy and noise included, nothing smoothed, pauses ignored) — what a naive tracker reports.
 */
export function rawDistance(latE7: Int32Array, lonE7: Int32Array, n: number): number {
  let total = 0;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    if (!isPlausibleCoord(latE7[i]!, lonE7[i]!)) continue;
    if (prev >= 0)
      total += haversine(latE7[prev]! * 1e-7, lonE7[prev]! * 1e-7, latE7[i]! * 1e-7, lonE7[i]! * 1e-7);
    prev = i;
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
