import type { Sample, SessionControl, Sport, StrengthSet } from '../schemas/types.js';
import {
  allocColumns,
  compareRows as compareRows_,
  copyRow as copyRow_,
  removeRow,
  resizeColumns,
  shiftRight,
  validateSample,
  writeSample,
} from './columns.js';
import { SESSION_DEFAULTS, type SportConfig, sportConfig } from './config.js';
import {
  isPlausibleCoord as isPlausibleCoord_,
  JumpGate,
  rowAccuracy as rowAccuracy_,
} from './stages/clean-gps.js';
import { SeqSet } from './stages/dedupe.js';
import { haversine as haversine_ } from './stages/distance.js';
import { explicitPauses } from './stages/moving-time.js';
import { findIdentity, insertionPoint, ReorderWindow } from './stages/reorder.js';
import { computeActivity } from './stages/rollup.js';
import { Cv2, LocalPlane } from './stages/smooth-gps.js';
import {
  type ActivityResult,
  type AthleteProfile,
  FLAG_BREAK as FLAG_BREAK_,
  FLAG_JUMP as FLAG_JUMP_,
  FLAG_LATE as FLAG_LATE_,
  type SampleColumns,
  type SampleFailure,
  SEQ_NONE as SEQ_NONE_,
} from './types.js';

// Module-local copies: imported bindings can compile to getter calls in hot loops (seen under tsx).
const FLAG_BREAK = FLAG_BREAK_;
const FLAG_JUMP = FLAG_JUMP_;
const FLAG_LATE = FLAG_LATE_;
const SEQ_NONE = SEQ_NONE_;
const compareRows = compareRows_;
const copyRow = copyRow_;
const haversine = haversine_;
const isPlausibleCoord = isPlausibleCoord_;
const rowAccuracy = rowAccuracy_;

export interface AddResult {
  /** samples stored (includes `late` ones) */
  accepted: number;
  /** identities already held (identical replay, or a non-canonical copy) */
  duplicates: number;
  /** accepted samples older than the reorder window: the session needs a recompute */
  late: number;
  failures: SampleFailure[];
}

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

export interface AccumulatorOptions {
  userId: string;
  deviceId: string;
  sessionId: string;
  sport: Sport;
  reorderWindowMs?: number;
  version?: string;
}

/**
 * One open session: its samples in columnar typed arrays (42 B/sample, ≤ 25 % growth headroom, no
 * per-sample objects), deduplicated and kept in canonical order as they arrive, plus a cheap live
 * view. The authoritative numbers come from `compute()`, which runs the same pure `computeActivity`
 * as every other path, so live ingestion, one-shot upload, import and replay agree exactly.
 */
export class SessionAccumulator {
  readonly userId: string;

  readonly deviceId: string;
  readonly sessionId: string;
  readonly sport: Sport;
  readonly version: string | undefined;
  private cols: SampleColumns = allocColumns(0);
  private readonly scratch = allocColumns(1);
  private readonly seqs = new SeqSet();
  private readonly window: ReorderWindow;
  private readonly controls: SessionControl[] = [];
  private readonly live_: LiveKernel;
  private readonly tail: LiveKernel;
  /** rows [0, committed) have been fed to the live kernel */
  private committed = 0;
  private liveDirty = false;
  private recompute = false;

  constructor(o: AccumulatorOptions) {
    this.userId = o.userId;
    this.deviceId = o.deviceId;
    this.sessionId = o.sessionId;
    this.sport = o.sport;
    this.version = o.version;
    this.window = new ReorderWindow(o.reorderWindowMs ?? SESSION_DEFAULTS.reorderWindowMs);
    const cfg = sportConfig(o.sport, o.version);
    this.live_ = new LiveKernel(cfg);
    this.tail = new LiveKernel(cfg);
  }

  get length(): number {
    return this.cols.length;
  }

  /** True once a late sample or a control arrived since the last `compute()`. */
  get needsRecompute(): boolean {
    return this.recompute;
  }

  add(samples: readonly Sample[]): AddResult {
    let accepted = 0;
    let duplicates = 0;
    let late = 0;
    const failures: SampleFailure[] = [];
    const s1 = this.scratch;
    for (let k = 0; k < samples.length; k++) {
      const s = samples[k];
      const err = validateSample(s);
      if (err) {
        failures.push({ index: k, error: err });
        continue;
      }
      writeSample(s1, 0, s as Sample);
      s1.length = 1;
      const seq = s1.seq[0]!;
      const existing = findIdentity(this.cols, s1, 0, seq !== SEQ_NONE && this.seqs.has(seq));
      if (existing >= 0) {
        // keep the canonical copy of an identity, whatever the arrival order
        if (compareRows(s1, 0, this.cols, existing) >= 0) {
          duplicates++;
          continue;
        }
        removeRow(this.cols, existing);
        if (existing < this.committed) this.liveDirty = true;
      }
      const t = s1.ts[0]!;
      const isLate = this.window.isLate(t);
      const pos = insertionPoint(this.cols, s1, 0);
      this.ensureCapacity(this.cols.length + 1);
      if (pos < this.cols.length) shiftRight(this.cols, pos);
      copyRow(this.cols, pos, s1, 0);
      this.cols.length++;
      if (isLate) {
        this.cols.flags[pos]! |= FLAG_LATE;
        late++;
        this.recompute = true;
      }
      if (pos < this.committed) this.liveDirty = true;
      if (seq !== SEQ_NONE) this.seqs.add(seq);
      this.window.observe(t);
      accepted++;
    }
    return { accepted, duplicates, late, failures };
  }

  control(c: SessionControl): void {
    if (c.sessionId !== this.sessionId) return;
    if (this.controls.some((x) => x.kind === c.kind && x.ts === c.ts)) return;
    this.controls.push(c);
    this.liveDirty = true;
    this.recompute = true;
  }

  /** Latest position, pace, HR, distance, elapsed and moving time. Incremental: O(new samples). */
  live(): LiveState {
    const c = this.cols;
    if (this.liveDirty) {
      this.live_.reset(explicitPauses(this.controls));
      this.committed = 0;
      this.liveDirty = false;
    }
    // rows older than the watermark are settled: fold them into the committed state
    const wm = this.window.watermark();
    while (this.committed < c.length && c.ts[this.committed]! < wm) this.live_.step(c, this.committed++);
    // the unsettled tail (at most one reorder window) is folded into a throw-away copy
    this.tail.copyFrom(this.live_);
    for (let i = this.committed; i < c.length; i++) this.tail.step(c, i);
    return this.tail.state(c.length);
  }

  /** Bytes held by this session's state (columns incl. growth headroom, seq bitset, controls). */
  bytesHeld(): number {
    const c = this.cols;
    return (
      c.ts.byteLength +
      c.seq.byteLength +
      c.lat.byteLength +
      c.lon.byteLength +
      c.alt.byteLength +
      c.acc.byteLength +
      c.speed.byteLength +
      c.dist.byteLength +
      c.hr.byteLength +
      c.cadence.byteLength +
      c.power.byteLength +
      c.flags.byteLength +
      this.seqs.bytesHeld() +
      this.controls.length * 128
    );
  }

  /** The held rows (canonical order). A view: do not mutate, and do not keep across add(). */
  columns(): SampleColumns {
    return this.cols;
  }

  /** Runs the full pipeline over everything held. Clears `needsRecompute`. */
  compute(athlete: AthleteProfile, sets: readonly StrengthSet[] = []): ActivityResult {
    this.recompute = false;
    return computeActivity(
      {
        userId: this.userId,
        deviceId: this.deviceId,
        sessionId: this.sessionId,
        sport: this.sport,
        samples: this.cols,
        controls: this.controls,
        sets,
        athlete,
      },
      this.version === undefined ? {} : { version: this.version },
    );
  }

  private ensureCapacity(need: number): void {
    const cap = this.cols.ts.length;
    if (need <= cap) return;
    // 25 % growth keeps headroom (and so bytes per held sample) bounded at 42 × 1.25 ≈ 53 B
    this.cols = resizeColumns(this.cols, Math.max(need, cap + (cap >> 2) + 64));
  }
}

/**
 * Causal live estimate: the hard jump gate, a forward (not smoothed) Kalman filter with the
 * innovation gate, distance from the device (Doppler) speed when reported, else haversine between
 * filtered positions, while moving; explicit pauses, and
 * instantaneous auto-pause (device speed, else filter speed). Approximates the final numbers
 * closely enough for a coach's screen; `compute()` is the authority.
 */
class LiveKernel {
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

  copyFrom(o: LiveKernel): void {
    this.gate.copyFrom(o.gate);
    this.kf.copyFrom(o.kf);
    this.plane.setOrigin(o.plane.lat0, o.plane.lon0);
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
          const nlat = this.plane.lat(this.kf.y);
          const nlon = this.plane.lon(this.kf.x);
          moved = haversine(this.lat, this.lon, nlat, nlon);
        }
        this.lat = this.plane.lat(this.kf.y);
        this.lon = this.plane.lon(this.kf.x);
        this.speed = Math.hypot(this.kf.vx, this.kf.vy);
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
