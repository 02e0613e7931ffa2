import { DEG, EARTH_RADIUS_M } from '../primitives/geo.js';

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
  // Rows with a position, projected once to the plane around the first (always kept); each
  // tolerance step runs on the survivors of the previous one, compacted in place.
  let m = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(lat[i])) m++;
  const row = new Uint32Array(m);
  m = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(lat[i])) row[m++] = i;
  if (m <= 2) return pick(lat, lon, row, m);
  const lat0 = lat[row[0]!]!;
  const lon0 = lon[row[0]!]!;
  const kx = EARTH_RADIUS_M * DEG * Math.cos(lat0 * DEG);
  const ky = EARTH_RADIUS_M * DEG;
  const x = new Float64Array(m);
  const y = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    x[k] = (lon[row[k]!]! - lon0) * kx;
    y[k] = (lat[row[k]!]! - lat0) * ky;
  }
  for (let tol = toleranceM; ; tol *= 2) {
    const keep = douglasPeucker(x, y, m, tol);
    let w = 0;
    for (let k = 0; k < m; k++) {
      if (!keep[k]) continue;
      x[w] = x[k]!;
      y[w] = y[k]!;
      row[w++] = row[k]!;
    }
    m = w;
    if (m <= maxPoints) return pick(lat, lon, row, m);
  }
}

function pick(
  lat: Float64Array,
  lon: Float64Array,
  row: Uint32Array,
  m: number,
): { lat: Float64Array; lon: Float64Array } {
  const la = new Float64Array(m);
  const lo = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    la[k] = lat[row[k]!]!;
    lo[k] = lon[row[k]!]!;
  }
  return { lat: la, lon: lo };
}

const DIVIDE_MARGIN = 1 - 1e-9;

/** Marks the points Douglas–Peucker keeps at tolerance `tol` (plane coordinates x, y in metres). */
export function douglasPeucker(x: Float64Array, y: Float64Array, n: number, tol: number): Uint8Array {
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  const tol2 = tol * tol;
  const stack: number[] = [0, n - 1];
  while (stack.length > 0) {
    const b = stack.pop()!;
    const a = stack.pop()!;
    const ax = x[a]!;
    const ay = y[a]!;
    const dx = x[b]! - ax;
    const dy = y[b]! - ay;
    const len2 = dx * dx + dy * dy;
    let worst = -1;
    let worstD = tol2;
    if (len2 === 0) {
      for (let i = a + 1; i < b; i++) {
        const px = x[i]! - ax;
        const py = y[i]! - ay;
        const d2 = px * px + py * py;
        if (d2 > worstD) {
          worstD = d2;
          worst = i;
        }
      }
    } else {
      // Divide only for candidates: cr² ≤ bound implies (cr²)/len2 ≤ worstD after rounding (the
      // 1e-9 margin dwarfs it), so the points chosen are exactly those the division would choose.
      let bound = worstD * len2 * DIVIDE_MARGIN;
      for (let i = a + 1; i < b; i++) {
        const cr = (x[i]! - ax) * dy - (y[i]! - ay) * dx;
        const q = cr * cr;
        if (q <= bound) continue;
        const d2 = q / len2;
        if (d2 > worstD) {
          worstD = d2;
          worst = i;
          bound = worstD * len2 * DIVIDE_MARGIN;
        }
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
