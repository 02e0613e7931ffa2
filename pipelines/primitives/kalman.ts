/**
 * Constant-velocity Kalman filter and the Rauch–Tung–Striebel smoother, the one estimator behind the
 * GPS track (two axes, smooth-gps) and the altitude profile (one axis, elevation) and, forward only,
 * behind the live estimate (live-estimator).
 *
 * - State per axis: position and velocity. Both axes share one covariance, because the measurement
 *   noise (isotropic horizontal accuracy) and the process noise are the same for both, so the filter
 *   costs one 2×2 covariance update per sample, not two. A one-axis user leaves y alone.
 * - Process noise: white acceleration with spectral density q (units²/s³).
 * - RTS: a forward pass records, per row, the smoother gain (`predictRts`); the backward pass
 *   (`rtsSmooth`) then corrects each filtered state with the next smoothed one, so each estimate
 *   uses past and future measurements.
 */

/** One constant-velocity filter over two axes with a shared covariance. */
export class Cv2 {
  x = 0;
  vx = 0;
  y = 0;
  vy = 0;
  p00 = 0;
  p01 = 0;
  p11 = 0;
  /** gains (position, velocity) of the last update or updateVelocity */
  k0 = 0;
  k1 = 0;

  init(x: number, y: number, r: number, velVar: number): void {
    this.x = x;
    this.y = y;
    this.vx = 0;
    this.vy = 0;
    this.p00 = r;
    this.p01 = 0;
    this.p11 = velVar;
  }

  copyFrom(o: Cv2): void {
    this.x = o.x;
    this.vx = o.vx;
    this.y = o.y;
    this.vy = o.vy;
    this.p00 = o.p00;
    this.p01 = o.p01;
    this.p11 = o.p11;
  }

  predict(dt: number, q: number): void {
    this.x += this.vx * dt;
    this.y += this.vy * dt;
    const dt2 = dt * dt;
    const p00 = this.p00;
    const p01 = this.p01;
    const p11 = this.p11;
    this.p00 = p00 + 2 * dt * p01 + dt2 * p11 + (q * dt2 * dt) / 3;
    this.p01 = p01 + dt * p11 + q * dt2 * 0.5;
    this.p11 = p11 + q * dt;
  }

  /**
   * `predict`, and row i of the smoother gains: C = P_filtered(i-1) · Fᵀ · P_predicted(i)⁻¹, which
   * `rtsSmooth` applies backwards. The four gain columns are passed one by one so that this call
   * site stays monomorphic (both filters use it).
   */
  predictRts(
    dt: number,
    q: number,
    i: number,
    c00: Float64Array,
    c01: Float64Array,
    c10: Float64Array,
    c11: Float64Array,
  ): void {
    const a00 = this.p00 + dt * this.p01;
    const a01 = this.p01;
    const a10 = this.p01 + dt * this.p11;
    const a11 = this.p11;
    this.predict(dt, q);
    const b00 = this.p00;
    const b01 = this.p01;
    const b11 = this.p11;
    const inv = 1 / (b00 * b11 - b01 * b01);
    c00[i] = (a00 * b11 - a01 * b01) * inv;
    c01[i] = (a01 * b00 - a00 * b01) * inv;
    c10[i] = (a10 * b11 - a11 * b01) * inv;
    c11[i] = (a11 * b00 - a10 * b01) * inv;
  }

  /** Squared Mahalanobis distance of a measurement (2 dof) against the current prediction. */
  mahalanobis2(zx: number, zy: number, r: number): number {
    const ex = zx - this.x;
    const ey = zy - this.y;
    return (ex * ex + ey * ey) / (this.p00 + r);
  }

  /** Velocity measurement (both axes), variance r per axis. */
  updateVelocity(zvx: number, zvy: number, r: number): void {
    const s = this.p11 + r;
    const k0 = this.p01 / s;
    const k1 = this.p11 / s;
    const ex = zvx - this.vx;
    const ey = zvy - this.vy;
    this.x += k0 * ex;
    this.y += k0 * ey;
    this.vx += k1 * ex;
    this.vy += k1 * ey;
    const p01 = this.p01;
    const p11 = this.p11;
    this.p00 -= k0 * p01;
    this.p01 = (1 - k1) * p01;
    this.p11 = (1 - k1) * p11;
    this.k0 = k0;
    this.k1 = k1;
  }

  update(zx: number, zy: number, r: number): void {
    const s = this.p00 + r;
    const k0 = this.p00 / s;
    const k1 = this.p01 / s;
    const ex = zx - this.x;
    const ey = zy - this.y;
    this.x += k0 * ex;
    this.y += k0 * ey;
    this.vx += k1 * ex;
    this.vy += k1 * ey;
    const p01 = this.p01;
    this.p11 -= k1 * p01;
    this.p01 = (1 - k0) * p01;
    this.p00 = (1 - k0) * this.p00;
    this.k0 = k0;
    this.k1 = k1;
  }
}

/**
 * RTS backward pass over the filtered states of one axis (position x, velocity v, in place), rows
 * [first, n), with the gains `predictRts` recorded. A row whose successor starts a new filter
 * segment (`segment` differs; null: one segment) ends its own backward run. Both axes of a 2-D
 * track share the gains, and neither reads the other, so calling this once per axis gives the
 * numbers of one loop over both.
 */
export function rtsSmooth(
  ts: Float64Array,
  segment: Int32Array | null,
  first: number,
  n: number,
  x: Float64Array,
  v: Float64Array,
  c00: Float64Array,
  c01: Float64Array,
  c10: Float64Array,
  c11: Float64Array,
): void {
  for (let k = n - 2; k >= first; k--) {
    const j = k + 1;
    if (segment !== null && segment[j] !== segment[k]) continue;
    const dt = (ts[j]! - ts[k]!) * 0.001;
    const e = x[j]! - (x[k]! + v[k]! * dt);
    const ev = v[j]! - v[k]!;
    x[k] = x[k]! + c00[j]! * e + c01[j]! * ev;
    v[k] = v[k]! + c10[j]! * e + c11[j]! * ev;
  }
}
