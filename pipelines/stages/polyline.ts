import { EARTH_RADIUS_M as EARTH_RADIUS_M_ } from './distance.js';
import { DEG as DEG_ } from './smooth-gps.js';

// Module-local copies: imported bindings can compile to getter calls in hot loops (seen under tsx).
const DEG = DEG_;
const EARTH_RADIUS_M = EARTH_RADIUS_M_;

/**
 * Polyline: the smoothed track simplified with Douglas–Peucker (perpendicular distance in a local
 * plane, iterative — no recursion limit), starting at `toleranceM` and doubling the tolerance on
 * the previous result until at most `maxPoints` remain, then encoded as a Google encoded polyline
 * (precision 5, i.e. 1e-5 degrees ≈ 1.1 m).
 */
export function simplify(
  lat: Float64Array,
  lon: Float64Array,
  n: number,
  toleranceM: number,
  maxPoints: number,
): { lat: Float64Array; lon: Float64Array } {
  // collect rows with a position
  let m = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(lat[i])) m++;
  let la = new Float64Array(m);
  let lo = new Float64Array(m);
  m = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(lat[i])) continue;
    la[m] = lat[i]!;
    lo[m++] = lon[i]!;
  }
  if (m <= 2) return { lat: la, lon: lo };
  const kx = EARTH_RADIUS_M * DEG * Math.cos(la[0]! * DEG);
  const ky = EARTH_RADIUS_M * DEG;
  for (let tol = toleranceM; ; tol *= 2) {
    const keep = douglasPeucker(la, lo, la.length, kx, ky, tol);
    let k = 0;
    for (let i = 0; i < keep.length; i++) k += keep[i]!;
    const nla = new Float64Array(k);
    const nlo = new Float64Array(k);
    let w = 0;
    for (let i = 0; i < keep.length; i++) {
      if (!keep[i]) continue;
      nla[w] = la[i]!;
      nlo[w++] = lo[i]!;
    }
    la = nla;
    lo = nlo;
    if (k <= maxPoints) return { lat: la, lon: lo };
  }
}

/** Marks the rows Douglas–Peucker keeps at tolerance `tol` metres. */
export function douglasPeucker(
  lat: Float64Array,
  lon: Float64Array,
  n: number,
  kx: number,
  ky: number,
  tol: number,
): Uint8Array {
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  const tol2 = tol * tol;
  const lat0 = lat[0]!;
  const lon0 = lon[0]!;
  const stack: number[] = [0, n - 1];
  while (stack.length > 0) {
    const b = stack.pop()!;
    const a = stack.pop()!;
    const ax = (lon[a]! - lon0) * kx;
    const ay = (lat[a]! - lat0) * ky;
    const dx = (lon[b]! - lon0) * kx - ax;
    const dy = (lat[b]! - lat0) * ky - ay;
    const len2 = dx * dx + dy * dy;
    let worst = -1;
    let worstD = tol2;
    for (let i = a + 1; i < b; i++) {
      const px = (lon[i]! - lon0) * kx - ax;
      const py = (lat[i]! - lat0) * ky - ay;
      let d2: number;
      if (len2 === 0) d2 = px * px + py * py;
      else {
        const cr = px * dy - py * dx;
        d2 = (cr * cr) / len2;
      }
      if (d2 > worstD) {
        worstD = d2;
        worst = i;
      }
    }
    if (worst < 0) continue;
    keep[worst] = 1;
    stack.push(a, worst, worst, b);
  }
  return keep;
}

/** Google encoded polyline, precision 5. */
export function encodePolyline(lat: Float64Array, lon: Float64Array, n: number): string {
  const codes: number[] = [];
  let pLat = 0;
  let pLon = 0;
  for (let i = 0; i < n; i++) {
    const iLat = Math.round(lat[i]! * 1e5);
    const iLon = Math.round(lon[i]! * 1e5);
    pushValue(codes, iLat - pLat);
    pushValue(codes, iLon - pLon);
    pLat = iLat;
    pLon = iLon;
  }
  let s = '';
  for (let i = 0; i < codes.length; i += 8192) s += String.fromCharCode(...codes.slice(i, i + 8192));
  return s;
}

function pushValue(codes: number[], v: number): void {
  let z = v < 0 ? ~(v << 1) : v << 1;
  while (z >= 0x20) {
    codes.push((0x20 | (z & 0x1f)) + 63);
    z >>>= 5;
  }
  codes.push(z + 63);
}

/** Decodes a Google encoded polyline (precision 5) — used by tests and consumers. */
export function decodePolyline(s: string): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  let lat = 0;
  let lon = 0;
  while (i < s.length) {
    const vals = [0, 0];
    for (let k = 0; k < 2; k++) {
      let shift = 0;
      let result = 0;
      let b: number;
      do {
        b = s.charCodeAt(i++) - 63;
        result |= (b & 0x1f) << shift;
        shift += 5;
      } while (b >= 0x20);
      vals[k] = result & 1 ? ~(result >> 1) : result >> 1;
    }
    lat += vals[0]!;
    lon += vals[1]!;
    out.push([lat / 1e5, lon / 1e5]);
  }
  return out;
}
