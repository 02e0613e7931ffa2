import type { SportConfig } from '../config.js';
import { DEG, EARTH_RADIUS_M, LocalPlane } from '../primitives/geo.js';
import { Cv2, rtsSmooth } from '../primitives/kalman.js';
import { NoiseEstimator } from '../primitives/noise.js';
import { ScratchPool } from '../primitives/scratch.js';
import { FLAG_BREAK, FLAG_INVALID, FLAG_JUMP, type SampleColumns } from '../types.js';
import { rowAccuracy } from './clean-gps.js';

/**
 * GPS smoothing: constant-velocity Kalman filter + Rauch–Tung–Striebel smoother (primitives/kalman),
 * in a local east/north plane (metres, primitives/geo) around the first accepted fix.
 *
 * - Process noise: white acceleration with spectral density `processNoise` (m²/s³), per sport.
 * - Measurement noise: (reported accuracy, floored at `minAccuracyM`; sport default when absent)².
 * - Innovation gate: a fix whose squared Mahalanobis distance to the prediction exceeds
 *   `gateChi2` is rejected (FLAG_JUMP) and only predicted through. After `maxConsecutiveRejects`
 *   gated fixes in a row the filter re-starts on the current fix (a new segment).
 * - RTS backward pass: each position uses past and future fixes, so corners are not cut by lag
 *   the way a causal filter or moving average cuts them.
 * Rows without an accepted fix (invalid, jump) still get a smoothed position inside a segment
 * (interpolated by the model), so the track stays continuous and a jump never adds distance.
 */
export interface SmoothGpsResult {
  /** smoothed degrees; NaN before the first accepted fix */
  lat: Float64Array;
  lon: Float64Array;
  /** smoothed speed m/s; NaN where no track */
  speed: Float32Array;
  /** filter segment id per row (-1 before the first fix) */
  segment: Int32Array;
  /** fixes rejected by the innovation gate */
  gated: number;
}

const VEL_VAR0 = 100;

/** Filtered-then-smoothed state arrays of one pass (reused across passes). */
interface PassBuffers {
  fx: Float64Array;
  fvx: Float64Array;
  fy: Float64Array;
  fvy: Float64Array;
  /** filtered velocity variance, kept only when the speed measurement uses it (headingWeight) */
  p11: Float64Array | null;
  c00: Float64Array;
  c01: Float64Array;
  c10: Float64Array;
  c11: Float64Array;
  /** per-row gains of the position (g) and velocity (v) updates, NaN where none: recorded by an
   * aided pass so the next one can replay them (see replayAidedPass) */
  g0: Float64Array;
  g1: Float64Array;
  v0: Float64Array;
  v1: Float64Array;
}

/**
 * One forward Kalman pass + RTS backward pass. In the first pass (`gate`), fixes are gated and
 * segments assigned; later passes replay the same accepted fixes and segments. In a speed-aided
 * pass (`aided`) the device speed along the previous pass's smoothed heading is a velocity
 * measurement; row i of the buffers still holds the previous pass when the forward loop reads it.
 */
function pass(
  cols: SampleColumns,
  cfg: SportConfig,
  flags: Uint8Array,
  plane: LocalPlane,
  segment: Int32Array,
  gate: boolean,
  aided: boolean,
  record: boolean,
  b: PassBuffers,
): { first: number; gated: number } {
  const n = cols.length;
  const ts = cols.ts;
  const q = cfg.processNoise;
  const { fx, fvx, fy, fvy, p11, c00, c01, c10, c11, g0, g1, v0, v1 } = b;
  const maxSpeed = cfg.maxSpeedMps;
  const s2 = cfg.speedSigmaMps * cfg.speedSigmaMps;
  const headingWeight = cfg.headingWeight;
  const kf = new Cv2();
  let seg = -1;
  let first = -1;
  let rejects = 0;
  let gated = 0;
  for (let i = 0; i < n; i++) {
    const f = flags[i]!;
    const hasFix = (f & (FLAG_INVALID | FLAG_JUMP)) === 0;
    if (first < 0) {
      if (!hasFix) continue;
      first = i;
      if (gate) plane.setOrigin(cols.lat[i]! * 1e-7, cols.lon[i]! * 1e-7);
    }
    const startSeg = gate
      ? seg < 0 || (hasFix && (f & FLAG_BREAK) !== 0)
      : i === first || segment[i] !== segment[i - 1];
    if (startSeg) {
      const r = rowAccuracy(cols.acc[i]!, cfg);
      kf.init(plane.x(cols.lon[i]! * 1e-7), plane.y(cols.lat[i]! * 1e-7), r * r, VEL_VAR0);
      seg++;
      rejects = 0;
      c00[i] = 0;
      c01[i] = 0;
      c10[i] = 0;
      c11[i] = 0;
    } else {
      kf.predictRts((ts[i]! - ts[i - 1]!) * 0.001, q, i, c00, c01, c10, c11);
      let reset = false;
      if (hasFix) {
        const r0 = rowAccuracy(cols.acc[i]!, cfg);
        const r = aided ? r0 * r0 * cfg.aidedPositionVarScale : r0 * r0;
        const zx = plane.x(cols.lon[i]! * 1e-7);
        const zy = plane.y(cols.lat[i]! * 1e-7);
        if (gate && kf.mahalanobis2(zx, zy, r) > cfg.gateChi2) {
          gated++;
          flags[i]! |= FLAG_JUMP;
          if (++rejects > cfg.maxConsecutiveRejects) {
            kf.init(zx, zy, r, VEL_VAR0);
            flags[i]! = (flags[i]! & ~FLAG_JUMP) | FLAG_BREAK;
            gated--;
            seg++;
            rejects = 0;
            reset = true;
          }
        } else {
          kf.update(zx, zy, r);
          rejects = 0;
          if (record) {
            g0[i] = kf.k0;
            g1[i] = kf.k1;
          }
        }
      } else if (record) g0[i] = Number.NaN;
      if (aided && !reset) {
        const s = cols.speed[i]!;
        if (!Number.isNaN(s) && !(s > maxSpeed)) {
          const vx = fvx[i]!;
          const vy = fvy[i]!;
          const v = Math.sqrt(vx * vx + vy * vy);
          // heading is meaningless while (nearly) standing: then only the magnitude ~0 is informative
          const ux = v > 1e-6 ? vx / v : 0;
          const uy = v > 1e-6 ? vy / v : 0;
          kf.updateVelocity(s * ux, s * uy, p11 ? s2 + headingWeight * p11[i]! : s2);
          if (record) {
            v0[i] = kf.k0;
            v1[i] = kf.k1;
          }
        } else if (record) v0[i] = Number.NaN;
      }
      if (reset) {
        // the filter re-started here: nothing flows back across the new segment's first row
        c00[i] = 0;
        c01[i] = 0;
        c10[i] = 0;
        c11[i] = 0;
      }
    }
    if (gate) segment[i] = seg;
    fx[i] = kf.x;
    fvx[i] = kf.vx;
    fy[i] = kf.y;
    fvy[i] = kf.vy;
    if (p11) p11[i] = kf.p11;
  }
  if (first >= 0) smoothBackward(ts, segment, first, n, b);
  return { first, gated };
}

/** RTS backward pass over the filtered states in `b`, both axes, segment by segment. */
function smoothBackward(
  ts: Float64Array,
  segment: Int32Array,
  first: number,
  n: number,
  b: PassBuffers,
): void {
  rtsSmooth(ts, segment, first, n, b.fx, b.fvx, b.c00, b.c01, b.c10, b.c11);
  rtsSmooth(ts, segment, first, n, b.fy, b.fvy, b.c00, b.c01, b.c10, b.c11);
}

/**
 * The second and later speed-aided passes see the same rows, fixes, accuracies and speed variances
 * as the first one, so their covariances, Kalman gains and smoother gains are the same numbers
 * (when the speed variance does not depend on the previous pass: headingWeight 0). Only the
 * states differ, because the heading comes from the previous pass. This replays the recorded gains
 * on the states: the same arithmetic on the states as `pass`, without the covariance half.
 */
function replayAidedPass(
  cols: SampleColumns,
  plane: LocalPlane,
  segment: Int32Array,
  first: number,
  b: PassBuffers,
): void {
  const n = cols.length;
  const ts = cols.ts;
  const { fx, fvx, fy, fvy, g0, g1, v0, v1 } = b;
  let x = 0;
  let y = 0;
  let vx = 0;
  let vy = 0;
  for (let i = first; i < n; i++) {
    if (i === first || segment[i] !== segment[i - 1]) {
      x = plane.x(cols.lon[i]! * 1e-7);
      y = plane.y(cols.lat[i]! * 1e-7);
      vx = 0;
      vy = 0;
    } else {
      const dt = (ts[i]! - ts[i - 1]!) * 0.001;
      x += vx * dt;
      y += vy * dt;
      const k0 = g0[i]!;
      if (!Number.isNaN(k0)) {
        const k1 = g1[i]!;
        const ex = plane.x(cols.lon[i]! * 1e-7) - x;
        const ey = plane.y(cols.lat[i]! * 1e-7) - y;
        x += k0 * ex;
        y += k0 * ey;
        vx += k1 * ex;
        vy += k1 * ey;
      }
      const q0 = v0[i]!;
      if (!Number.isNaN(q0)) {
        // the device speed along the previous pass's heading, as in `pass`
        const s = cols.speed[i]!;
        const pvx = fvx[i]!;
        const pvy = fvy[i]!;
        const v = Math.sqrt(pvx * pvx + pvy * pvy);
        const ux = v > 1e-6 ? pvx / v : 0;
        const uy = v > 1e-6 ? pvy / v : 0;
        const q1 = v1[i]!;
        const ex = s * ux - vx;
        const ey = s * uy - vy;
        x += q0 * ex;
        y += q0 * ey;
        vx += q1 * ex;
        vy += q1 * ey;
      }
    }
    fx[i] = x;
    fvx[i] = vx;
    fy[i] = y;
    fvy[i] = vy;
  }
  smoothBackward(ts, segment, first, n, b);
}

/**
 * The fixes' noise (m, 1σ) when none of them reports an accuracy (`estimateFixSigma`): the
 * NoiseEstimator over both axes of consecutive accepted fixes up to `maxGapS` apart, between
 * `estimatedSigmaMinM` and `defaultAccuracyM`. Device tracks are already filtered (Garmin fenix 6 run,
 * Edge 810 ride: under 1 m), so assuming 10 m there made the smoother cut their corners. NaN: the
 * fixes report accuracy, or too few triples (the sport's default applies).
 * 2026.12-3: on a sparse log (median interval ≥ `sparseFixIntervalS`) the floor is
 * `estimatedSigmaSparseMinM`, and with `fixSigmaLagExtrapolate` the estimate is extrapolated to lag 0
 * from lags 1 and 2 (linear in variance), which removes what bends and speed changes add; a steady
 * bend adds variance with the fourth power of the lag, so there the extrapolation undershoots and a
 * sparse track that is noisy too is smoothed less than its noise (smooth-gps.test.ts, "known limit").
 */
export function estimateFixSigma(cols: SampleColumns, cfg: SportConfig, flags: Uint8Array): number {
  const n = cols.length;
  for (let i = 0; i < n; i++) if (!Number.isNaN(cols.acc[i]!)) return Number.NaN;
  const est = new NoiseEstimator(0.02, 40);
  const ky = EARTH_RADIUS_M * DEG * 1e-7;
  let kx = 0;
  let x0 = 0;
  let y0 = 0;
  let t0 = 0;
  let x1 = 0;
  let y1 = 0;
  let t1 = 0;
  let have = 0;
  // intervals between consecutive accepted fixes, for sparseFixIntervalS (0.5 s bins up to 60 s)
  const sparse = cfg.sparseFixIntervalS > 0;
  const dtBins = sparse ? new Uint32Array(121) : null;
  let dtCount = 0;
  let tPrev = Number.NaN;
  // fixSigmaLagExtrapolate: the same estimate over every other fix, and the last five fixes of the
  // chain (ring[ring] is the newest)
  const est2 = cfg.fixSigmaLagExtrapolate ? new NoiseEstimator(0.02, 40) : null;
  const hx = new Float64Array(5);
  const hy = new Float64Array(5);
  const ht = new Float64Array(5);
  let ring = 0;
  for (let i = 0; i < n; i++) {
    if (flags[i]! & (FLAG_INVALID | FLAG_JUMP)) continue;
    if (kx === 0) kx = ky * Math.cos(cols.lat[i]! * 1e-7 * DEG);
    const x = cols.lon[i]! * kx;
    const y = cols.lat[i]! * ky;
    const t = cols.ts[i]! * 0.001;
    if (dtBins !== null && t > tPrev) {
      dtBins[Math.min(Math.floor((t - tPrev) * 2), 120)]!++;
      dtCount++;
    }
    tPrev = t;
    if (have > 0 && (t - t1 > cfg.maxGapS || t <= t1)) have = 0;
    if (have >= 2) {
      est.add(x0, x1, x, t1 - t0, t - t1);
      est.add(y0, y1, y, t1 - t0, t - t1);
    }
    if (est2 !== null) {
      // lag 2: the fixes two and four back in the same chain
      if (have >= 4) {
        const a = (ring + 3) % 5;
        const b = (ring + 1) % 5;
        est2.add(hx[a]!, hx[b]!, x, ht[b]! - ht[a]!, t - ht[b]!);
        est2.add(hy[a]!, hy[b]!, y, ht[b]! - ht[a]!, t - ht[b]!);
      }
      ring = (ring + 1) % 5;
      hx[ring] = x;
      hy[ring] = y;
      ht[ring] = t;
    }
    x0 = x1;
    y0 = y1;
    t0 = t1;
    x1 = x;
    y1 = y;
    t1 = t;
    have++;
  }
  let sigma = est.sigma(20);
  if (Number.isNaN(sigma)) return Number.NaN;
  let floor = cfg.estimatedSigmaMinM;
  if (dtBins !== null && medianBinS(dtBins, dtCount) >= cfg.sparseFixIntervalS) {
    // 2026.12-3: a sparse log (fixes 3 s or more apart: phone apps, exports, GPX loggers). Between
    // such fixes the athlete moves several metres, and the second differences measure the bends
    // more than the noise.
    floor = cfg.estimatedSigmaSparseMinM;
    const s2 = est2 === null ? Number.NaN : est2.sigma(20);
    // White noise gives the same σ at both lags; motion (bends, speed changes) adds more the longer
    // the lag. Extrapolated linearly in variance to lag 0: what the fixes' noise alone would give
    // (Strava export: 0.82 m at lag 1, 1.36 m at lag 2, 1.86 m at lag 3: the track is clean).
    if (!Number.isNaN(s2)) sigma = Math.sqrt(Math.max(0, 2 * sigma * sigma - s2 * s2));
  }
  return Math.min(Math.max(sigma, floor), cfg.defaultAccuracyM);
}

/** lower edge (s) of the 0.5 s bin that holds the median interval */
function medianBinS(bins: Uint32Array, count: number): number {
  let acc = bins[0]!;
  let k = 0;
  while (k < bins.length - 1 && acc < count / 2) acc += bins[++k]!;
  return k * 0.5;
}

const scratch = new ScratchPool();

/**
 * `fixTrack`: the positions returned are those of the first (positions-only) pass, which stays close
 * to the fixes; speed still comes from the speed-aided passes. For sessions whose distance does not
 * come from the track (the device odometer, compute-activity.ts), so the map shows where the athlete
 * went; the aided track follows the speed integral and drifted from the fixes by tens of metres.
 */
export function smoothGps(
  cols: SampleColumns,
  cfg: SportConfig,
  flags: Uint8Array,
  fixTrack = false,
): SmoothGpsResult {
  const n = cols.length;
  const lat = new Float64Array(n).fill(Number.NaN);
  const lon = new Float64Array(n).fill(Number.NaN);
  const speed = new Float32Array(n).fill(Number.NaN);
  const segment = new Int32Array(n).fill(-1);
  const [fx, fvx, fy, fvy, p11, c00, c01, c10, c11, g0, g1, v0, v1] = scratch.take(13, n) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const headingFree = cfg.headingWeight === 0;
  const b: PassBuffers = {
    fx,
    fvx,
    fy,
    fvy,
    p11: headingFree ? null : p11,
    c00,
    c01,
    c10,
    c11,
    g0,
    g1,
    v0,
    v1,
  };
  const plane = new LocalPlane();
  const { first, gated } = pass(cols, cfg, flags, plane, segment, true, false, false, b);
  if (first < 0) return { lat, lon, speed, segment, gated };

  // Passes 2..: device (Doppler) speed along the previous heading as a velocity measurement. Doppler
  // speed is an order of magnitude more precise than position differences, and it anchors the
  // length of each step, so the smoothed path neither jitters (long) nor cuts corners (short).
  let hasSpeed = false;
  for (let i = first; i < n && !hasSpeed; i++) {
    const sp = cols.speed[i]!;
    hasSpeed = !Number.isNaN(sp) && !(sp > cfg.maxSpeedMps);
  }
  if (fixTrack && hasSpeed) {
    for (let i = first; i < n; i++) {
      lat[i] = plane.lat(b.fy[i]!);
      lon[i] = plane.lon(b.fx[i]!);
    }
  }
  for (let it = 0; hasSpeed && it < cfg.aidedPasses; it++) {
    if (it > 0 && headingFree) replayAidedPass(cols, plane, segment, first, b);
    else pass(cols, cfg, flags, plane, segment, false, true, headingFree, b);
  }

  const aidedTrack = !(fixTrack && hasSpeed);
  for (let i = first; i < n; i++) {
    if (aidedTrack) {
      lat[i] = plane.lat(b.fy[i]!);
      lon[i] = plane.lon(b.fx[i]!);
    }
    const vx = b.fvx[i]!;
    const vy = b.fvy[i]!;
    speed[i] = Math.sqrt(vx * vx + vy * vy);
  }
  return { lat, lon, speed, segment, gated };
}
