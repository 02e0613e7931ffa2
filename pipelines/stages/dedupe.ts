import { allocColumns, compareRows } from '../columns.js';
import { type SampleColumns, SEQ_NONE } from '../types.js';

/**
 * Dedupe: one row per sample identity, in canonical order.
 *
 * Identity is (device, session, seq); the device time stands in when a sample has no seq. Rows are
 * put in canonical order (ts, seq, content — see compareRows) and the first row of each identity
 * wins, so which copy survives never depends on arrival order, even when a re-sent copy differs.
 * An identical replay is therefore a no-op. Cost: O(n) when the input is already in order (the
 * normal case), O(n log n) otherwise; no per-sample objects.
 */
export interface DedupeResult {
  columns: SampleColumns;
  duplicates: number;
}

export function sortAndDedupe(cols: SampleColumns): DedupeResult {
  const n = cols.length;
  const order = isCanonicallySorted(cols) ? null : canonicalOrder(cols);
  const at = (k: number): number => (order === null ? k : order[k]!);

  // Pass 1: adjacent identities (same ts and same seq, or same ts and both without seq).
  const keep = new Uint32Array(n);
  let m = 0;
  let prev = -1;
  for (let k = 0; k < n; k++) {
    const i = at(k);
    if (prev >= 0 && cols.ts[i] === cols.ts[prev] && cols.seq[i] === cols.seq[prev]) continue;
    keep[m++] = i;
    prev = i;
  }

  // Pass 2: the same seq at different device times (a re-sent sample with a corrected clock).
  // Only needed when seqs are not strictly increasing along time order.
  let lastSeq = -1;
  let monotone = true;
  for (let k = 0; k < m; k++) {
    const s = cols.seq[keep[k]!]!;
    if (s === SEQ_NONE) continue;
    if (s <= lastSeq) {
      monotone = false;
      break;
    }
    lastSeq = s;
  }
  let dropped: Uint8Array | null = null;
  if (!monotone) {
    dropped = new Uint8Array(m);
    const bySeq: number[] = [];
    for (let k = 0; k < m; k++) if (cols.seq[keep[k]!] !== SEQ_NONE) bySeq.push(k);
    // keep[] is already canonical, so among equal seqs the lower position is the canonical winner.
    bySeq.sort((a, b) => cols.seq[keep[a]!]! - cols.seq[keep[b]!]! || a - b);
    for (let q = 1; q < bySeq.length; q++) {
      if (cols.seq[keep[bySeq[q]!]!] === cols.seq[keep[bySeq[q - 1]!]!]) dropped[bySeq[q]!] = 1;
    }
  }

  // The normal case (in order, no duplicates): one block copy per column instead of row by row.
  if (order === null && m === n && !dropped) return { columns: copyColumns(cols, n), duplicates: 0 };

  let w = m;
  if (dropped) {
    w = 0;
    for (let k = 0; k < m; k++) if (!dropped[k]) keep[w++] = keep[k]!;
  }
  return { columns: gatherRows(cols, keep, w), duplicates: n - w };
}

/**
 * Rows idx[0..m) of `c`, one tight loop per column. The loops are spelled out: a shared generic
 * helper sees six typed-array kinds, goes megamorphic and costs several times more.
 */
function gatherRows(c: SampleColumns, idx: Uint32Array, m: number): SampleColumns {
  const o = allocColumns(m);
  o.length = m;
  for (let k = 0; k < m; k++) o.ts[k] = c.ts[idx[k]!]!;
  for (let k = 0; k < m; k++) o.seq[k] = c.seq[idx[k]!]!;
  for (let k = 0; k < m; k++) o.lat[k] = c.lat[idx[k]!]!;
  for (let k = 0; k < m; k++) o.lon[k] = c.lon[idx[k]!]!;
  for (let k = 0; k < m; k++) o.alt[k] = c.alt[idx[k]!]!;
  for (let k = 0; k < m; k++) o.acc[k] = c.acc[idx[k]!]!;
  for (let k = 0; k < m; k++) o.speed[k] = c.speed[idx[k]!]!;
  for (let k = 0; k < m; k++) o.dist[k] = c.dist[idx[k]!]!;
  for (let k = 0; k < m; k++) o.hr[k] = c.hr[idx[k]!]!;
  for (let k = 0; k < m; k++) o.cadence[k] = c.cadence[idx[k]!]!;
  for (let k = 0; k < m; k++) o.power[k] = c.power[idx[k]!]!;
  for (let k = 0; k < m; k++) o.flags[k] = c.flags[idx[k]!]!;
  return o;
}

/** Largest device-time span (ms, ≈ 49 days) that the radix path sorts; wider spans use compareRows. */
const RADIX_SPAN = 4_294_967_296;
const RADIX_BITS = 11;
const RADIX_MASK = (1 << RADIX_BITS) - 1;

/**
 * Row indexes in canonical order (compareRows; equal rows keep their input order, as a stable
 * sort would). A stable LSD radix sort on the device-time offset (11-bit digits, ≤ 3 passes) puts
 * rows in ts order, then the few rows that share a device time are ordered by compareRows: a
 * comparator sort over every row costs several times more, and nearly all rows differ in ts.
 */
function canonicalOrder(cols: SampleColumns): Uint32Array {
  const n = cols.length;
  const ts = cols.ts;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let integral = true;
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
    if (!Number.isInteger(t)) integral = false;
  }
  if (!integral || hi - lo >= RADIX_SPAN) return order.sort((a, b) => compareRows(cols, a, cols, b) || a - b);
  const off = new Uint32Array(n);
  for (let i = 0; i < n; i++) off[i] = ts[i]! - lo;
  let spare = new Uint32Array(n);
  const start = new Uint32Array(RADIX_MASK + 1);
  const span = hi - lo;
  for (let shift = 0; shift < 32 && (shift === 0 || span >= 2 ** shift); shift += RADIX_BITS) {
    start.fill(0);
    for (let k = 0; k < n; k++) start[(off[order[k]!]! >>> shift) & RADIX_MASK]!++;
    let sum = 0;
    for (let d = 0; d <= RADIX_MASK; d++) {
      const c = start[d]!;
      start[d] = sum;
      sum += c;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      spare[start[(off[i]! >>> shift) & RADIX_MASK]!++] = i;
    }
    const t = order;
    order = spare;
    spare = t;
  }
  // rows sharing a ts are in index order; insertion sort by content keeps that order among equals
  for (let k = 1; k < n; k++) {
    const i = order[k]!;
    if (ts[i] !== ts[order[k - 1]!]) continue;
    let j = k - 1;
    while (j >= 0 && ts[order[j]!] === ts[i] && compareRows(cols, order[j]!, cols, i) > 0) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = i;
  }
  return order;
}

function copyColumns(c: SampleColumns, n: number): SampleColumns {
  return {
    length: n,
    ts: c.ts.slice(0, n),
    seq: c.seq.slice(0, n),
    lat: c.lat.slice(0, n),
    lon: c.lon.slice(0, n),
    alt: c.alt.slice(0, n),
    acc: c.acc.slice(0, n),
    speed: c.speed.slice(0, n),
    dist: c.dist.slice(0, n),
    hr: c.hr.slice(0, n),
    cadence: c.cadence.slice(0, n),
    power: c.power.slice(0, n),
    flags: c.flags.slice(0, n),
  };
}

function isCanonicallySorted(c: SampleColumns): boolean {
  const ts = c.ts;
  for (let i = 1; i < c.length; i++) {
    const d = ts[i]! - ts[i - 1]!;
    if (d > 0) continue;
    if (d < 0 || compareRows(c, i - 1, c, i) > 0) return false;
  }
  return true;
}

/**
 * Bitset of seen sequence numbers for an open session: 1 bit per seq in the observed range, so
 * "have I seen this seq?" is O(1) without a Set entry per sample. Re-bases when a smaller seq
 * arrives. Sessions with absurdly sparse seqs (range > 2^27) fall back to a Set.
 */
export class SeqSet {
  private base = 0;
  private bits = new Uint32Array(0);
  private sparse: Set<number> | null = null;
  private empty = true;

  has(seq: number): boolean {
    if (this.sparse) return this.sparse.has(seq);
    if (this.empty) return false;
    const off = seq - this.base;
    if (off < 0 || off >= this.bits.length * 32) return false;
    return (this.bits[off >>> 5]! & (1 << (off & 31))) !== 0;
  }

  add(seq: number): void {
    if (this.sparse) {
      this.sparse.add(seq);
      return;
    }
    if (this.empty) {
      this.base = seq - (seq & 31);
      this.bits = new Uint32Array(64);
      this.empty = false;
    }
    let off = seq - this.base;
    if (off < 0 || off >= this.bits.length * 32) {
      const lo = Math.min(this.base, seq - (seq & 31));
      const hi = Math.max(this.base + this.bits.length * 32, seq + 1);
      if (hi - lo > 1 << 27) {
        this.toSparse();
        this.sparse!.add(seq);
        return;
      }
      const words = Math.max(Math.ceil((hi - lo) / 32), this.bits.length + (this.bits.length >> 2) + 1);
      const next = new Uint32Array(words);
      next.set(this.bits, (this.base - lo) >>> 5);
      this.bits = next;
      this.base = lo;
      off = seq - this.base;
    }
    this.bits[off >>> 5]! |= 1 << (off & 31);
  }

  /** Removes a seq (used when a canonical copy replaces another copy of the same identity). */
  delete(seq: number): void {
    if (this.sparse) {
      this.sparse.delete(seq);
      return;
    }
    const off = seq - this.base;
    if (this.empty || off < 0 || off >= this.bits.length * 32) return;
    this.bits[off >>> 5]! &= ~(1 << (off & 31));
  }

  bytesHeld(): number {
    return this.sparse ? this.sparse.size * 16 : this.bits.byteLength;
  }

  private toSparse(): void {
    const s = new Set<number>();
    for (let w = 0; w < this.bits.length; w++) {
      const word = this.bits[w]!;
      if (word === 0) continue;
      for (let b = 0; b < 32; b++) if (word & (1 << b)) s.add(this.base + w * 32 + b);
    }
    this.sparse = s;
  }
}
