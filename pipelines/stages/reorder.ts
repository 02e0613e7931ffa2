import { compareRows } from '../columns.js';
import { type SampleColumns, SEQ_NONE } from '../types.js';

/**
 * Reorder: an open session keeps its rows in canonical order (device time, then seq). Samples that
 * arrive out of order are inserted in place. The reorder window is measured in device time behind
 * the newest sample seen: a sample inside it is an ordinary reorder; one older than that is LATE —
 * it is still merged into the session (never dropped), flagged FLAG_LATE, and the session is marked
 * for recompute, because numbers already published for that stretch are now stale.
 */
export class ReorderWindow {
  private maxTs = Number.NEGATIVE_INFINITY;

  constructor(readonly windowMs: number) {}

  /** Device time before which rows are settled (nothing newer can be reordered in front of them). */
  watermark(): number {
    return this.maxTs - this.windowMs;
  }

  isLate(ts: number): boolean {
    return ts < this.maxTs - this.windowMs;
  }

  observe(ts: number): void {
    if (ts > this.maxTs) this.maxTs = ts;
  }
}

/** First row index whose ts is >= t (rows sorted by ts). */
export function lowerBoundTs(c: SampleColumns, t: number): number {
  let lo = 0;
  let hi = c.length;
  const ts = c.ts;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (ts[m]! < t) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Where row j of `src` goes in `c` to keep canonical order (after any equal rows). */
export function insertionPoint(c: SampleColumns, src: SampleColumns, j: number): number {
  const n = c.length;
  if (n === 0 || compareRows(c, n - 1, src, j) <= 0) return n;
  let i = lowerBoundTs(c, src.ts[j]!);
  while (i < n && c.ts[i] === src.ts[j] && compareRows(c, i, src, j) <= 0) i++;
  return i;
}

/**
 * Row of `c` with the same identity as row j of `src`, or -1. Same seq is looked up at the same
 * device time first (the replay case), then by a scan (a re-sent seq with a corrected clock).
 */
export function findIdentity(c: SampleColumns, src: SampleColumns, j: number, seqSeen: boolean): number {
  const seq = src.seq[j]!;
  const t = src.ts[j]!;
  if (seq !== SEQ_NONE && !seqSeen) return -1;
  const n = c.length;
  for (let i = lowerBoundTs(c, t); i < n && c.ts[i] === t; i++) if (c.seq[i] === seq) return i;
  if (seq === SEQ_NONE) return -1;
  for (let i = 0; i < n; i++) if (c.seq[i] === seq) return i;
  return -1;
}
