import { validateSample, writeSample } from '../../pipelines/columns.js';
import { allocColumns, type SampleColumns, SEQ_NONE } from '../../pipelines/index.js';
import { emptySample, SAMPLE_FIELDS } from '../../schemas/sample.js';
import type { Sample } from '../../schemas/types.js';

/**
 * A session's samples exactly as the samples table stores them — the values of its columns after
 * the RowBinary encoding (Float32 columns rounded to float32, out-of-range HR/cadence/power as
 * null), one row per identity, ordered by (ts, sample_key) — columnar, without an object per row.
 *
 * Finalisation computes from this, whether it was read back from ClickHouse (FINAL) or kept in
 * memory while the worker wrote the same rows (session-images.ts): both produce the same values
 * in the same typed arrays, so the activity computed from either is the same, bit for bit.
 *
 * Missing values: seq SEQ_NONE, lat/lon and the Float32 columns NaN, hr/cadence/power −1.
 * Arrays may be longer than `length` (growth headroom).
 */
export interface StoredSamples {
  length: number;
  ts: Float64Array;
  seq: Uint32Array;
  lat: Float64Array;
  lon: Float64Array;
  alt: Float32Array;
  acc: Float32Array;
  speed: Float32Array;
  dist: Float32Array;
  hr: Int16Array;
  cadence: Int32Array;
  power: Int32Array;
  lap: Uint8Array;
}

/** Bytes held per row of StoredSamples capacity. */
export const STORED_BYTES_PER_SAMPLE = 8 + 4 + 8 + 8 + 4 * 4 + 2 + 4 + 4 + 1;

export function allocStored(capacity: number): StoredSamples {
  const n = Math.max(0, capacity | 0);
  return {
    length: 0,
    ts: new Float64Array(n),
    seq: new Uint32Array(n),
    lat: new Float64Array(n),
    lon: new Float64Array(n),
    alt: new Float32Array(n),
    acc: new Float32Array(n),
    speed: new Float32Array(n),
    dist: new Float32Array(n),
    hr: new Int16Array(n),
    cadence: new Int32Array(n),
    power: new Int32Array(n),
    lap: new Uint8Array(n),
  };
}

/** A copy with room for `capacity` rows (≥ length). */
export function resizeStored(s: StoredSamples, capacity: number): StoredSamples {
  const out = allocStored(capacity);
  const n = s.length;
  out.length = n;
  // TypeScript cannot pair each field's column types in a loop; every `set` copies within one typed-array type
  for (const f of SAMPLE_FIELDS) (out[f] as Float64Array).set(s[f].subarray(0, n) as Float64Array);
  return out;
}

/** The samples table's identity column: the seq when present, else the device time. */
export function storedKey(s: StoredSamples, i: number): number {
  const seq = s.seq[i]!;
  return seq === SEQ_NONE ? s.ts[i]! : seq;
}

// What the raw-row encoder (clickhouse-rows.ts writeRawSamples) stores for a value.
const fin = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;
export const storedUint = (v: number | null | undefined, max: number): number | null =>
  v === null || v === undefined || !Number.isFinite(v) || v < 0 || v > max ? null : Math.round(v);

/**
 * Appends the row that writeRawSamples stores for `x` (row `i` must be within capacity). Returns
 * false when the stored value would not read back as a number (a finite double that overflows
 * float32 is stored as ±inf): the caller then reads the session back instead.
 */
export function appendRawSample(s: StoredSamples, i: number, x: Sample): boolean {
  s.ts[i] = x.ts;
  s.seq[i] = x.seq ?? SEQ_NONE;
  s.lat[i] = fin(x.lat) ?? Number.NaN;
  s.lon[i] = fin(x.lon) ?? Number.NaN;
  const alt = fin(x.alt);
  const acc = fin(x.acc);
  const speed = fin(x.speed);
  const dist = fin(x.dist);
  s.alt[i] = alt ?? Number.NaN;
  s.acc[i] = acc ?? Number.NaN;
  s.speed[i] = speed ?? Number.NaN;
  s.dist[i] = dist ?? Number.NaN;
  s.hr[i] = storedUint(x.hr, 255) ?? -1;
  s.cadence[i] = storedUint(x.cadence, 65535) ?? -1;
  s.power[i] = storedUint(x.power, 65535) ?? -1;
  s.lap[i] = x.lap ? 1 : 0;
  // a finite double beyond float32's range is stored as ±inf
  return (
    (alt === null || Number.isFinite(s.alt[i]!)) &&
    (acc === null || Number.isFinite(s.acc[i]!)) &&
    (speed === null || Number.isFinite(s.speed[i]!)) &&
    (dist === null || Number.isFinite(s.dist[i]!))
  );
}

/** Row i and row j of `s` store the same values in every column. */
export function sameStoredRow(s: StoredSamples, i: number, j: number): boolean {
  const eq = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
  return (
    s.ts[i] === s.ts[j] &&
    s.seq[i] === s.seq[j] &&
    eq(s.lat[i]!, s.lat[j]!) &&
    eq(s.lon[i]!, s.lon[j]!) &&
    eq(s.alt[i]!, s.alt[j]!) &&
    eq(s.acc[i]!, s.acc[j]!) &&
    eq(s.speed[i]!, s.speed[j]!) &&
    eq(s.dist[i]!, s.dist[j]!) &&
    s.hr[i] === s.hr[j] &&
    s.cadence[i] === s.cadence[j] &&
    s.power[i] === s.power[j] &&
    s.lap[i] === s.lap[j]
  );
}

/** Rows `order` of `s`, in that order, as a new StoredSamples. */
export function gatherStored(s: StoredSamples, order: ArrayLike<number>): StoredSamples {
  const out = allocStored(order.length);
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    out.ts[k] = s.ts[i]!;
    out.seq[k] = s.seq[i]!;
    out.lat[k] = s.lat[i]!;
    out.lon[k] = s.lon[i]!;
    out.alt[k] = s.alt[i]!;
    out.acc[k] = s.acc[i]!;
    out.speed[k] = s.speed[i]!;
    out.dist[k] = s.dist[i]!;
    out.hr[k] = s.hr[i]!;
    out.cadence[k] = s.cadence[i]!;
    out.power[k] = s.power[i]!;
    out.lap[k] = s.lap[i]!;
  }
  out.length = order.length;
  return out;
}

const nullIfNaN = (v: number): number | null => (Number.isNaN(v) ? null : v);
const nullIfNeg = (v: number): number | null => (v < 0 ? null : v);

/**
 * The pipelines' input columns, exactly as computeActivity would build them from these rows as
 * Sample objects (same validation, same quantisation), without making the objects.
 */
export function computeColumns(s: StoredSamples): SampleColumns {
  const c = allocColumns(s.length);
  const x: Sample = emptySample(0);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    x.ts = s.ts[i]!;
    const seq = s.seq[i]!;
    x.seq = seq === SEQ_NONE ? null : seq;
    x.lat = nullIfNaN(s.lat[i]!);
    x.lon = nullIfNaN(s.lon[i]!);
    x.alt = nullIfNaN(s.alt[i]!);
    x.acc = nullIfNaN(s.acc[i]!);
    x.speed = nullIfNaN(s.speed[i]!);
    x.dist = nullIfNaN(s.dist[i]!);
    x.hr = nullIfNeg(s.hr[i]!);
    x.cadence = nullIfNeg(s.cadence[i]!);
    x.power = nullIfNeg(s.power[i]!);
    x.lap = s.lap[i] === 1;
    if (validateSample(x)) continue; // computeActivity reports these as failures and skips them
    writeSample(c, n++, x);
  }
  c.length = n;
  return c;
}
