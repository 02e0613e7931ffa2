import type { Sample } from '../schemas/types.js';
import {
  COORD_NONE,
  COORD_SCALE,
  FLAG_LAP,
  type SampleColumns,
  type SampleFailure,
  SEQ_NONE,
  U16_NONE,
} from './types.js';

/** Bytes per sample held in SampleColumns (see types.ts). */
export const BYTES_PER_SAMPLE = 42;

/** Device time outside [2000-01-01, 2100-01-01) is a malformed timestamp. */
const TS_MIN = 946_684_800_000;
const TS_MAX = 4_102_444_800_000;

export function allocColumns(capacity: number): SampleColumns {
  const n = Math.max(0, capacity | 0);
  return {
    length: 0,
    ts: new Float64Array(n),
    seq: new Uint32Array(n),
    lat: new Int32Array(n),
    lon: new Int32Array(n),
    alt: new Float32Array(n),
    acc: new Float32Array(n),
    speed: new Float32Array(n),
    dist: new Float32Array(n),
    hr: new Uint8Array(n),
    cadence: new Uint16Array(n),
    power: new Uint16Array(n),
    flags: new Uint8Array(n),
  };
}

export function capacityOf(c: SampleColumns): number {
  return c.ts.length;
}

/** Copies the first `length` rows into arrays of `capacity` (≥ length). */
export function resizeColumns(c: SampleColumns, capacity: number): SampleColumns {
  const out = allocColumns(capacity);
  const n = c.length;
  out.length = n;
  out.ts.set(c.ts.subarray(0, n));
  out.seq.set(c.seq.subarray(0, n));
  out.lat.set(c.lat.subarray(0, n));
  out.lon.set(c.lon.subarray(0, n));
  out.alt.set(c.alt.subarray(0, n));
  out.acc.set(c.acc.subarray(0, n));
  out.speed.set(c.speed.subarray(0, n));
  out.dist.set(c.dist.subarray(0, n));
  out.hr.set(c.hr.subarray(0, n));
  out.cadence.set(c.cadence.subarray(0, n));
  out.power.set(c.power.subarray(0, n));
  out.flags.set(c.flags.subarray(0, n));
  return out;
}

/** `copyWithin(target, start, end)` on every column (rows [start, end) move to `target`). */
function copyRowsWithin(c: SampleColumns, target: number, start: number, end: number): void {
  c.ts.copyWithin(target, start, end);
  c.seq.copyWithin(target, start, end);
  c.lat.copyWithin(target, start, end);
  c.lon.copyWithin(target, start, end);
  c.alt.copyWithin(target, start, end);
  c.acc.copyWithin(target, start, end);
  c.speed.copyWithin(target, start, end);
  c.dist.copyWithin(target, start, end);
  c.hr.copyWithin(target, start, end);
  c.cadence.copyWithin(target, start, end);
  c.power.copyWithin(target, start, end);
  c.flags.copyWithin(target, start, end);
}

/** Moves rows [from, length) one slot to the right (caller guarantees capacity). */
export function shiftRight(c: SampleColumns, from: number): void {
  copyRowsWithin(c, from + 1, from, c.length);
}

/** Removes rows [0, k) (shifts the rest left). */
export function dropFront(c: SampleColumns, k: number): void {
  copyRowsWithin(c, 0, k, c.length);
  c.length -= k;
}

/** Removes row i (shifts the rest left). */
export function removeRow(c: SampleColumns, i: number): void {
  copyRowsWithin(c, i, i + 1, c.length);
  c.length -= 1;
}

/** Copies row j of `src` into row i of `dst`. */
export function copyRow(dst: SampleColumns, i: number, src: SampleColumns, j: number): void {
  dst.ts[i] = src.ts[j]!;
  dst.seq[i] = src.seq[j]!;
  dst.lat[i] = src.lat[j]!;
  dst.lon[i] = src.lon[j]!;
  dst.alt[i] = src.alt[j]!;
  dst.acc[i] = src.acc[j]!;
  dst.speed[i] = src.speed[j]!;
  dst.dist[i] = src.dist[j]!;
  dst.hr[i] = src.hr[j]!;
  dst.cadence[i] = src.cadence[j]!;
  dst.power[i] = src.power[j]!;
  dst.flags[i] = src.flags[j]!;
}

function f32(v: number | null | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
}

function nonNeg32(v: number | null | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : Number.NaN;
}

function coord(v: number | null | undefined, limit: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < -limit || v > limit) return COORD_NONE;
  return Math.round(v * COORD_SCALE);
}

function u16(v: number | null | undefined): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return U16_NONE;
  return v >= U16_NONE ? U16_NONE - 1 : Math.round(v);
}

/**
 * Validates one sample. Returns null when usable; a failure (code + message) when its identity is
 * broken. Values that are merely implausible (bad fix, NaN HR) are not failures: the row is kept and
 * the stages flag or ignore the field, so one bad sensor never loses the rest of the sample.
 */
export function validateSample(s: unknown): SampleFailure['error'] | null {
  if (typeof s !== 'object' || s === null)
    return { code: 'sample_malformed', message: 'sample is not an object' };
  const ts = (s as Sample).ts;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < TS_MIN || ts >= TS_MAX) {
    return { code: 'ts_invalid', message: `ts must be epoch ms in [2000, 2100), got ${String(ts)}` };
  }
  const seq = (s as Sample).seq;
  if (seq !== null && seq !== undefined) {
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq >= SEQ_NONE) {
      return { code: 'seq_invalid', message: `seq must be an integer in [0, 2^32-1), got ${String(seq)}` };
    }
  }
  return null;
}

/** Writes a (validated) sample into row i. Values are quantised exactly as they are stored. */
export function writeSample(c: SampleColumns, i: number, s: Sample): void {
  c.ts[i] = Math.round(s.ts);
  c.seq[i] = s.seq ?? SEQ_NONE;
  // Out-of-range coordinates beyond what i32 at 1e-7 holds become "no fix"; in-range bad ones
  // (e.g. lat 95) are kept raw and flagged invalid by clean-gps.
  c.lat[i] = coord(s.lat, 214);
  c.lon[i] = coord(s.lon, 214);
  c.alt[i] = f32(s.alt);
  c.acc[i] = nonNeg32(s.acc);
  c.speed[i] = nonNeg32(s.speed);
  c.dist[i] = nonNeg32(s.dist);
  const hr = s.hr;
  c.hr[i] = typeof hr === 'number' && Number.isFinite(hr) && hr > 0 ? (hr >= 255 ? 255 : Math.round(hr)) : 0;
  c.cadence[i] = u16(s.cadence);
  c.power[i] = u16(s.power);
  c.flags[i] = s.lap === true ? FLAG_LAP : 0;
}

/** Converts samples to columns (input order), collecting failures for unusable ones. */
export function columnsFromSamples(samples: readonly Sample[]): {
  columns: SampleColumns;
  failures: SampleFailure[];
} {
  const c = allocColumns(samples.length);
  const failures: SampleFailure[] = [];
  let n = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    const err = validateSample(s);
    if (err) {
      failures.push({ index: i, error: err });
      continue;
    }
    writeSample(c, n++, s as Sample);
  }
  c.length = n;
  return { columns: c, failures };
}

/**
 * Canonical total order of rows: (ts, seq with "none" last, then every stored field). Sorting by it
 * makes the result independent of arrival order, even when two copies of an identity disagree.
 */
export function compareRows(a: SampleColumns, i: number, b: SampleColumns, j: number): number {
  return (
    a.ts[i]! - b.ts[j]! ||
    a.seq[i]! - b.seq[j]! ||
    a.lat[i]! - b.lat[j]! ||
    a.lon[i]! - b.lon[j]! ||
    cmpF(a.alt[i]!, b.alt[j]!) ||
    cmpF(a.acc[i]!, b.acc[j]!) ||
    cmpF(a.speed[i]!, b.speed[j]!) ||
    cmpF(a.dist[i]!, b.dist[j]!) ||
    a.hr[i]! - b.hr[j]! ||
    a.cadence[i]! - b.cadence[j]! ||
    a.power[i]! - b.power[j]! ||
    (a.flags[i]! & FLAG_LAP) - (b.flags[j]! & FLAG_LAP)
  );
}

function cmpF(x: number, y: number): number {
  const xn = Number.isNaN(x);
  const yn = Number.isNaN(y);
  if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1;
  return x - y;
}

/** Same identity: the seq when present, else the device time. */
export function sameIdentity(a: SampleColumns, i: number, b: SampleColumns, j: number): boolean {
  const sa = a.seq[i]!;
  const sb = b.seq[j]!;
  if (sa !== SEQ_NONE || sb !== SEQ_NONE) return sa === sb;
  return a.ts[i] === b.ts[j];
}
