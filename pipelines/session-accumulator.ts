import type { Sample, SessionControl, Sport, StrengthSet } from '../schemas/types.js';
import {
  allocColumns,
  compareRows,
  copyRow,
  dropFront,
  removeRow,
  resizeColumns,
  shiftRight,
  validateSample,
  writeSample,
} from './columns.js';
import { computeActivity } from './compute-activity.js';
import { SESSION_DEFAULTS, type SportConfig, sportConfig } from './config.js';
import { LIVE_ESTIMATOR_BYTES, LiveEstimator, type LiveState } from './live-estimator.js';
import { SeqSet } from './stages/dedupe.js';
import { explicitPauses } from './stages/moving-time.js';
import { findIdentity, insertionPoint, lowerBoundTs, ReorderWindow } from './stages/reorder.js';
import {
  type ActivityResult,
  type AthleteProfile,
  FLAG_LATE,
  type SampleColumns,
  type SampleFailure,
  SEQ_NONE,
} from './types.js';

/** Live checkpoints kept at most (the oldest one, at or before the reorder watermark, always stays). */
const MAX_CHECKPOINTS = 16;
/** Retired checkpoint kernels kept for reuse. */
const MAX_SPARE = 4;

export interface AddResult {
  /** samples stored (includes `late` ones) */
  accepted: number;
  /** identities already held (identical replay, or a non-canonical copy) */
  duplicates: number;
  /** accepted samples older than the reorder window: the session needs a recompute */
  late: number;
  failures: SampleFailure[];
}

export interface AccumulatorOptions {
  userId: string;
  deviceId: string;
  sessionId: string;
  sport: Sport;
  reorderWindowMs?: number;
  version?: string;
  /**
   * For a live view only (the worker's live state): after each `live()`, rows the live fold can no
   * longer revisit are dropped, so the session holds about one reorder window of rows instead of
   * all of them. Then `compute()` and `columns()` refuse; a sample at or before the newest dropped
   * row's device time is ignored (counted in `late`, not `accepted`); and a control refolds from
   * the oldest kept checkpoint, so a pause that reaches back past it does not change the distance
   * and moving time already folded. The live numbers are otherwise those of a full accumulator.
   */
  liveOnly?: boolean;
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
  /** live state folded over rows [0, liveEnd) */
  private readonly live_: LiveEstimator;
  private liveEnd = 0;
  /** snapshots of live_ at row indexes (ascending), to resume from when rows change behind liveEnd */
  private readonly checkpoints: Checkpoint[] = [];
  private readonly spare: LiveEstimator[] = [];
  /** lowest row index inserted or removed since the last live(); rows before it are unchanged */
  private touched = Number.POSITIVE_INFINITY;
  /** controls changed: the live state is refolded from the first row */
  private liveDirty = false;
  private recompute = false;
  private readonly cfg: SportConfig;
  private readonly liveOnly: boolean;
  /** liveOnly: rows dropped so far, and the device time of the newest of them */
  private dropped = 0;
  private droppedTs = Number.NEGATIVE_INFINITY;

  constructor(o: AccumulatorOptions) {
    this.userId = o.userId;
    this.deviceId = o.deviceId;
    this.sessionId = o.sessionId;
    this.sport = o.sport;
    this.version = o.version;
    this.window = new ReorderWindow(o.reorderWindowMs ?? SESSION_DEFAULTS.reorderWindowMs);
    const cfg = sportConfig(o.sport, o.version);
    this.cfg = cfg;
    this.live_ = new LiveEstimator(cfg);
    this.liveOnly = o.liveOnly === true;
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
      // Stage the row in the free slot after the last one. Nearly every sample is the next one in
      // time with a new seq: it stays there (no identity can match: no held row has its seq, nor
      // its device time), which is what the general path below would conclude, only cheaper.
      this.ensureCapacity(this.cols.length + 1);
      const c = this.cols;
      const n = c.length;
      writeSample(c, n, s as Sample);
      const seq = c.seq[n]!;
      const t = c.ts[n]!;
      if (t <= this.droppedTs) {
        late++; // liveOnly: behind the rows already dropped
        continue;
      }
      const seen = seq !== SEQ_NONE && this.seqs.has(seq);
      if (!seen && (n === 0 || c.ts[n - 1]! < t)) {
        c.length = n + 1;
        if (this.window.isLate(t)) {
          c.flags[n]! |= FLAG_LATE;
          late++;
          this.recompute = true;
        }
        if (n < this.touched) this.touched = n;
        if (seq !== SEQ_NONE) this.seqs.add(seq);
        this.window.observe(t);
        accepted++;
        continue;
      }
      copyRow(s1, 0, c, n);
      s1.length = 1;
      const existing = findIdentity(c, s1, 0, seen);
      if (existing >= 0) {
        // keep the canonical copy of an identity, whatever the arrival order
        if (compareRows(s1, 0, c, existing) >= 0) {
          duplicates++;
          continue;
        }
        removeRow(c, existing);
        if (existing < this.touched) this.touched = existing;
      }
      const isLate = this.window.isLate(t);
      const pos = insertionPoint(c, s1, 0);
      if (pos < c.length) shiftRight(c, pos);
      copyRow(c, pos, s1, 0);
      c.length++;
      if (isLate) {
        c.flags[pos]! |= FLAG_LATE;
        late++;
        this.recompute = true;
      }
      if (pos < this.touched) this.touched = pos;
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

  /**
   * Latest position, pace, HR, distance, elapsed and moving time: the live kernel folded over every
   * held row in canonical order. Incremental: O(new samples). When rows change behind the folded end
   * (a reordered or late sample, a replaced copy), the fold resumes from the newest checkpoint before
   * the change; a checkpoint is taken at each call, and those older than the reorder watermark are
   * dropped but one, so a reorder inside the window never refolds more than the window.
   */
  live(): LiveState {
    const c = this.cols;
    const kernel = this.live_;
    const cps = this.checkpoints;
    if (this.liveDirty && this.dropped > 0) {
      // the dropped rows are folded into the oldest checkpoint (kept by trimFolded): refold from it
      while (cps.length > 1) this.retire(cps.pop()!.kernel);
      // the checkpoint takes the new pauses too: later refolds start from it (the rows it folded
      // keep the pauses they were folded with)
      cps[0]!.kernel.setPauses(explicitPauses(this.controls));
      kernel.copyFrom(cps[0]!.kernel);
      this.liveEnd = cps[0]!.end;
      this.liveDirty = false;
    } else if (this.liveDirty) {
      kernel.reset(explicitPauses(this.controls));
      this.liveEnd = 0;
      while (cps.length > 0) this.retire(cps.pop()!.kernel);
      this.liveDirty = false;
    } else if (this.touched < this.liveEnd) {
      while (cps.length > 0 && cps[cps.length - 1]!.end > this.touched) this.retire(cps.pop()!.kernel);
      const cp = cps[cps.length - 1];
      if (cp) kernel.copyFrom(cp.kernel);
      else kernel.reset(kernel.pausesHeld());
      this.liveEnd = cp ? cp.end : 0;
    }
    this.touched = Number.POSITIVE_INFINITY;
    if (this.liveEnd < c.length) {
      this.checkpoint();
      for (let i = this.liveEnd; i < c.length; i++) kernel.step(c, i);
      this.liveEnd = c.length;
    }
    if (this.liveOnly) this.trimFolded();
    return kernel.state(this.dropped + c.length);
  }

  /**
   * liveOnly: drops the rows folded into the newest checkpoint that is at or before the reorder
   * watermark (every row it folded is older than the watermark), and the checkpoints before it.
   * Rows inserted later sort after the dropped ones (add() ignores older samples), so no fold needs
   * them again; that checkpoint stays as the base of every refold (end 0).
   */
  private trimFolded(): void {
    const cps = this.checkpoints;
    const settled = lowerBoundTs(this.cols, this.window.watermark());
    let k = -1;
    while (k + 1 < cps.length && cps[k + 1]!.end <= settled) k++;
    if (k < 0) return;
    const d = cps[k]!.end;
    for (let j = 0; j < k; j++) this.retire(cps[j]!.kernel);
    cps.splice(0, k);
    if (d <= 0) return;
    const c = this.cols;
    const t = c.ts[d - 1]!;
    if (t > this.droppedTs) this.droppedTs = t;
    dropFront(c, d);
    for (const cp of cps) cp.end -= d;
    this.liveEnd -= d;
    this.dropped += d;
  }

  /** Snapshot of the live kernel at liveEnd; keeps one checkpoint at or before the watermark. */
  private checkpoint(): void {
    const cps = this.checkpoints;
    const end = this.liveEnd;
    if (end === 0 || (cps.length > 0 && cps[cps.length - 1]!.end === end)) return;
    const kernel = this.spare.pop() ?? new LiveEstimator(this.cfg);
    kernel.copyFrom(this.live_);
    cps.push({ end, kernel });
    const settled = lowerBoundTs(this.cols, this.window.watermark());
    let keep = 0;
    while (keep + 1 < cps.length && cps[keep + 1]!.end <= settled) keep++;
    if (keep > 0 || cps.length > MAX_CHECKPOINTS) {
      const drop = keep > 0 ? keep : 1;
      for (let k = 0; k < drop; k++) this.retire(cps[k + (keep > 0 ? 0 : 1)]!.kernel);
      cps.splice(keep > 0 ? 0 : 1, drop);
    }
  }

  private retire(k: LiveEstimator): void {
    if (this.spare.length < MAX_SPARE) this.spare.push(k);
  }

  /** Bytes held by this session's state (columns incl. growth headroom, seq bitset, controls, live
   * checkpoints). */
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
      this.controls.length * 128 +
      (this.checkpoints.length + this.spare.length) * LIVE_ESTIMATOR_BYTES
    );
  }

  /** The held rows (canonical order). A view: do not mutate, and do not keep across add(). */
  columns(): SampleColumns {
    this.refuseIfLiveOnly('columns');
    return this.cols;
  }

  private refuseIfLiveOnly(what: string): void {
    if (this.liveOnly) throw new Error(`SessionAccumulator.${what}(): not with liveOnly (rows are dropped)`);
  }

  /** Runs the full pipeline over everything held. Clears `needsRecompute`. */
  compute(athlete: AthleteProfile, sets: readonly StrengthSet[] = []): ActivityResult {
    this.refuseIfLiveOnly('compute');
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

interface Checkpoint {
  /** the kernel has folded rows [0, end) */
  end: number;
  kernel: LiveEstimator;
}
