import type { SportConfig } from './config.js';
import { haversine, LocalPlane } from './primitives/geo.js';
import { Cv2 } from './primitives/kalman.js';
import { isPlausibleCoord, JumpGate, rowAccuracy } from './stages/clean-gps.js';
import { FLAG_BREAK, FLAG_JUMP, type SampleColumns } from './types.js';

export interface LiveState {
  /** device time of the newest processed sample, null before the first */
  ts: number | null;
  lat: number | null;
  lon: number | null;
  speedMps: number | null;
  paceSPerKm: number | null;
  hr: number | null;
  distanceM: number;
  elapsedS: number;
  movingS: number;
  paused: boolean;
  sampleCount: number;
}

/** Rough heap size of one LiveEstimator with its gate, filter and plane (for bytesHeld). */
export const LIVE_ESTIMATOR_BYTES = 640;

/**
 * The live estimator, one `step` per row in canonical order; the session accumulator folds it over
 * the rows it holds and keeps copies of it (`copyFrom`) as checkpoints to resume from.
 *
 * Causal live estimate: the hard jump gate, a forward (not smoothed) Kalman filter with the
 * innovation gate, distance from the device (Doppler) speed when reported, else haversine between
 * filtered positions, while moving; explicit pauses, and
 * instantaneous auto-pause (device speed, else filter speed). Approximates the final numbers
 * closely enough for a coach's screen; `compute()` is the authority.
 */
export class LiveEstimator {
  private readonly gate: JumpGate;
  private readonly kf = new Cv2();
  private readonly plane = new LocalPlane();
  private hasFix = false;
  private rejects = 0;
  private lastTs = Number.NaN;
  private firstTs = Number.NaN;
  private lat = Number.NaN;
  private lon = Number.NaN;
  private speed = Number.NaN;
  private hr = Number.NaN;
  private devSpeed = Number.NaN;
  private distanceM = 0;
  private movingS = 0;
  private paused = false;
  private pauses: Float64Array = new Float64Array(0);

  constructor(private readonly cfg: SportConfig) {
    this.gate = new JumpGate(cfg);
  }

  reset(pauses: Float64Array): void {
    this.gate.reset();
    this.hasFix = false;
    this.rejects = 0;
    this.lastTs = Number.NaN;
    this.firstTs = Number.NaN;
    this.lat = Number.NaN;
    this.lon = Number.NaN;
    this.speed = Number.NaN;
    this.hr = Number.NaN;
    this.devSpeed = Number.NaN;
    this.distanceM = 0;
    this.movingS = 0;
    this.paused = false;
    this.pauses = pauses;
  }

  pausesHeld(): Float64Array {
    return this.pauses;
  }

  setPauses(pauses: Float64Array): void {
    this.pauses = pauses;
  }

  copyFrom(o: LiveEstimator): void {
    this.gate.copyFrom(o.gate);
    this.kf.copyFrom(o.kf);
    this.plane.copyFrom(o.plane);
    this.hasFix = o.hasFix;
    this.rejects = o.rejects;
    this.lastTs = o.lastTs;
    this.firstTs = o.firstTs;
    this.lat = o.lat;
    this.lon = o.lon;
    this.speed = o.speed;
    this.hr = o.hr;
    this.devSpeed = o.devSpeed;
    this.distanceM = o.distanceM;
    this.movingS = o.movingS;
    this.paused = o.paused;
    this.pauses = o.pauses;
  }

  step(c: SampleColumns, i: number): void {
    const cfg = this.cfg;
    const t = c.ts[i]!;
    const dt = Number.isNaN(this.lastTs) ? 0 : (t - this.lastTs) * 0.001;
    if (Number.isNaN(this.firstTs)) this.firstTs = t;
    this.lastTs = t;
    this.paused = inPause(this.pauses, t);
    const h = c.hr[i]!;
    if (h >= cfg.hrMin && h <= cfg.hrMax) {
      this.hr =
        Number.isNaN(this.hr) || Math.abs(h - this.hr) <= cfg.hrMaxDeltaPerS * (dt + 1) + 5 ? h : this.hr;
    }
    let moved = 0;
    const la = c.lat[i]!;
    const lo = c.lon[i]!;
    const acc = c.acc[i]!;
    if (cfg.gps && isPlausibleCoord(la, lo) && !(acc > cfg.maxAccuracyM)) {
      const latD = la * 1e-7;
      const lonD = lo * 1e-7;
      const r0 = rowAccuracy(acc, cfg);
      const g = this.gate.check(latD, lonD, t, r0);
      if (g !== FLAG_JUMP) {
        if (!this.hasFix || g === FLAG_BREAK) {
          if (!this.hasFix) this.plane.setOrigin(latD, lonD);
          this.kf.init(this.plane.x(lonD), this.plane.y(latD), r0 * r0, 100);
          this.hasFix = true;
          this.rejects = 0;
        } else {
          this.kf.predict(dt, cfg.processNoise);
          const zx = this.plane.x(lonD);
          const zy = this.plane.y(latD);
          if (
            this.kf.mahalanobis2(zx, zy, r0 * r0) > cfg.gateChi2 &&
            ++this.rejects <= cfg.maxConsecutiveRejects
          ) {
            // gated: keep the prediction
          } else {
            this.kf.update(zx, zy, r0 * r0);
            this.rejects = 0;
          }
          // the device speed, when reported, sets the distance below
          if (Number.isNaN(c.speed[i]!)) {
            moved = haversine(this.lat, this.lon, this.plane.lat(this.kf.y), this.plane.lon(this.kf.x));
          }
        }
        this.lat = this.plane.lat(this.kf.y);
        this.lon = this.plane.lon(this.kf.x);
        // the device speed, when reported, replaces the filter's below
        if (Number.isNaN(c.speed[i]!)) this.speed = Math.hypot(this.kf.vx, this.kf.vy);
      }
    }
    const dev = c.speed[i]!;
    if (!Number.isNaN(dev)) {
      // Doppler speed integrates to a far better live distance than a causal filter's jittery path
      moved = Number.isNaN(this.devSpeed) ? dev * dt : (dev + this.devSpeed) * 0.5 * dt;
      this.speed = dev;
    }
    this.devSpeed = dev;
    const moving =
      !this.paused && !(this.speed < cfg.pauseSpeedMps) && !(dt > cfg.maxGapS && Number.isNaN(dev));
    if (moving) {
      this.movingS += dt;
      this.distanceM += moved;
    }
  }

  state(count: number): LiveState {
    const has = !Number.isNaN(this.lastTs);
    const sp = Number.isNaN(this.speed) ? null : this.speed;
    return {
      ts: has ? this.lastTs : null,
      lat: Number.isNaN(this.lat) ? null : this.lat,
      lon: Number.isNaN(this.lon) ? null : this.lon,
      speedMps: sp,
      paceSPerKm: sp !== null && sp > 0.3 ? 1000 / sp : null,
      hr: Number.isNaN(this.hr) ? null : this.hr,
      distanceM: this.distanceM,
      elapsedS: has ? (this.lastTs - this.firstTs) * 0.001 : 0,
      movingS: this.movingS,
      paused: this.paused,
      sampleCount: count,
    };
  }
}

function inPause(p: Float64Array, t: number): boolean {
  for (let k = 0; k < p.length; k += 2) if (p[k]! < t && t <= p[k + 1]!) return true;
  return false;
}
