/**
 * Per-stage scratch arrays reused across calls. A stage's working state (Kalman means, covariances,
 * smoother gains) lives only for the duration of one synchronous call, so allocating and zeroing
 * it per session is avoidable work: at ~120 B per sample it was about 40 % of the bytes the whole
 * chain allocated, and the garbage collector had to reclaim it every session or two.
 *
 * Contract: the arrays are NOT zeroed (callers write every row they later read), may be longer
 * than asked for, and must not escape the call. Stages run synchronously and are not re-entrant,
 * and each worker thread has its own module instance. A pool keeps the largest size it was asked
 * for (smooth-gps 13 and elevation 6 arrays × 8 B × samples: ~2.2 MB after a 4 h session at 1 Hz).
 */
export class ScratchPool {
  private readonly arrays: Float64Array[] = [];

  /** `count` scratch arrays of at least `n` elements. */
  take(count: number, n: number): Float64Array[] {
    const out: Float64Array[] = [];
    for (let k = 0; k < count; k++) {
      let a = this.arrays[k];
      if (a === undefined || a.length < n) {
        a = new Float64Array(n);
        this.arrays[k] = a;
      }
      out.push(a);
    }
    return out;
  }
}
