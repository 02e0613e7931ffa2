import { type ActivitySummary, type CleanSamples, SEQ_NONE } from '../../pipelines/types.js';
import type { ManualEntry, SessionControl, StrengthSet, TelemetryBatch } from '../../schemas/types.js';
import { rawSampleVersion } from './activity-version.js';
import { encodeString, type RowBinaryWriter, type RowWriter } from './rowbinary.js';
import { allocStored, type StoredSamples, storedUint } from './stored-samples.js';

/**
 * The row layouts of `samples` (one row per sample, as received: migration 0021) and
 * `activity_streams` (one row of arrays per activity version: migration 0020), and their encoders.
 * Neither has a Nullable column: an absent value is 0 and its bit in `present` is clear. The bits
 * are shared by both tables (docs/analytics.md). Below them, the JSONEachRow rows of the other tables
 * the worker writes (session_index, session_controls, strength_sets, manual_entries, activities, announcements).
 */
export const PRESENT = {
  seq: 1,
  lat: 2,
  lon: 4,
  alt: 8,
  acc: 16,
  speedDevice: 32,
  distDevice: 64,
  hr: 128,
  cadence: 256,
  power: 512,
  lap: 1024,
  latSmooth: 2048,
  lonSmooth: 4096,
  altSmooth: 8192,
  speed: 16384,
  distance: 32768,
} as const;

/** Column order of the samples table, as RowBinary inserts name them. */
export const SAMPLE_COLUMNS = [
  'user_id',
  'device_id',
  'session_id',
  'sport',
  'sample_key',
  'ts',
  'lat',
  'lon',
  'alt',
  'acc',
  'speed_device',
  'dist_device',
  'hr',
  'cadence',
  'power',
  'present',
  'version',
] as const;

const fin = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;

/** Appends the samples rows of one batch (identity strings encoded once per batch). */
export function writeRawSamples(w: RowWriter, b: TelemetryBatch): void {
  const names = [b.userId, b.deviceId, b.sessionId, b.sport];
  const ident = Buffer.concat([
    encodeString(b.userId),
    encodeString(b.deviceId),
    encodeString(b.sessionId),
    encodeString(b.sport),
  ]);
  for (const s of b.samples) {
    w.strings(names, ident);
    let p = 0;
    if (s.seq !== null && s.seq !== undefined) p |= PRESENT.seq;
    w.u64(s.seq ?? s.ts);
    w.u64(s.ts);
    const lat = fin(s.lat);
    const lon = fin(s.lon);
    const alt = fin(s.alt);
    const acc = fin(s.acc);
    const speed = fin(s.speed);
    const dist = fin(s.dist);
    const hr = storedUint(s.hr, 255);
    const cadence = storedUint(s.cadence, 65535);
    const power = storedUint(s.power, 65535);
    if (lat !== null) p |= PRESENT.lat;
    if (lon !== null) p |= PRESENT.lon;
    if (alt !== null) p |= PRESENT.alt;
    if (acc !== null) p |= PRESENT.acc;
    if (speed !== null) p |= PRESENT.speedDevice;
    if (dist !== null) p |= PRESENT.distDevice;
    if (hr !== null) p |= PRESENT.hr;
    if (cadence !== null) p |= PRESENT.cadence;
    if (power !== null) p |= PRESENT.power;
    if (s.lap) p |= PRESENT.lap;
    w.f64(lat ?? 0);
    w.f64(lon ?? 0);
    w.f32(alt ?? 0);
    w.f32(acc ?? 0);
    w.f32(speed ?? 0);
    w.f32(dist ?? 0);
    w.u8(hr ?? 0);
    w.u16(cadence ?? 0);
    w.u16(power ?? 0);
    w.u16(p);
    w.u64(rawSampleVersion(s.ts));
    w.rows++;
  }
}

/** The columns the read-back query selects from samples FINAL, in this order. */
export const READ_BACK_COLUMNS =
  'device_id, session_id, sample_key, ts, lat, lon, alt, acc, speed_device, dist_device, hr, cadence, power, present';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/**
 * JSONCompact rows [from, to) of the read-back query (one session) as StoredSamples. A value whose
 * bit is set but that does not read back as a number (a float32 overflow stored as ±inf, printed
 * as null) is NaN, as it was when the column was Nullable.
 */
export function storedFromRows(rows: readonly unknown[][], from: number, to: number): StoredSamples {
  const s = allocStored(to - from);
  const f = (v: unknown, p: number, bit: number) =>
    (p & bit) === 0 || v === null || v === undefined ? Number.NaN : num(v);
  const u = (v: unknown, p: number, bit: number) => ((p & bit) === 0 ? -1 : num(v));
  for (let i = from, k = 0; i < to; i++, k++) {
    const r = rows[i]!;
    const p = num(r[13]);
    s.seq[k] = (p & PRESENT.seq) === 0 ? SEQ_NONE : num(r[2]);
    s.ts[k] = num(r[3]);
    s.lat[k] = f(r[4], p, PRESENT.lat);
    s.lon[k] = f(r[5], p, PRESENT.lon);
    s.alt[k] = f(r[6], p, PRESENT.alt);
    s.acc[k] = f(r[7], p, PRESENT.acc);
    s.speed[k] = f(r[8], p, PRESENT.speedDevice);
    s.dist[k] = f(r[9], p, PRESENT.distDevice);
    s.hr[k] = u(r[10], p, PRESENT.hr);
    s.cadence[k] = u(r[11], p, PRESENT.cadence);
    s.power[k] = u(r[12], p, PRESENT.power);
    s.lap[k] = (p & PRESENT.lap) === 0 ? 0 : 1;
  }
  s.length = to - from;
  return s;
}

/** Column order of activity_streams. */
export const STREAM_COLUMNS = [
  'activity_id',
  'user_id',
  'device_id',
  'session_id',
  'sport',
  'version',
  'sample_key',
  'ts',
  'lat',
  'lon',
  'lat_smooth',
  'lon_smooth',
  'alt',
  'alt_smooth',
  'speed',
  'distance_m',
  'hr',
  'cadence',
  'power',
  'flags',
  'present',
] as const;

/** One activity version's streams, columnar: what activity_streams stores in one row. */
export interface StreamRow {
  activityId: string;
  userId: string;
  deviceId: string;
  sessionId: string;
  sport: string;
  version: number;
  length: number;
  sampleKey: Float64Array;
  ts: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  latSmooth: Float64Array;
  lonSmooth: Float64Array;
  alt: Float32Array;
  altSmooth: Float32Array;
  speed: Float32Array;
  distance: Float64Array;
  hr: Uint8Array;
  cadence: Uint16Array;
  power: Uint16Array;
  flags: Uint8Array;
  present: Uint16Array;
}

/** The streams row of one computed activity: absent values (NaN, no HR, 0xffff) as 0 with their bit clear. */
export function streamRow(
  ids: { activityId: string; userId: string; deviceId: string; sessionId: string; sport: string },
  version: number,
  clean: CleanSamples,
): StreamRow {
  const n = clean.length;
  const out: StreamRow = {
    ...ids,
    version,
    length: n,
    sampleKey: new Float64Array(n),
    ts: clean.ts.slice(0, n),
    lat: new Float64Array(n),
    lon: new Float64Array(n),
    latSmooth: new Float64Array(n),
    lonSmooth: new Float64Array(n),
    alt: new Float32Array(n),
    altSmooth: new Float32Array(n),
    speed: new Float32Array(n),
    distance: new Float64Array(n),
    hr: clean.hr.slice(0, n),
    cadence: new Uint16Array(n),
    power: new Uint16Array(n),
    flags: clean.flags.slice(0, n),
    present: new Uint16Array(n),
  };
  const f64 = (
    to: Float64Array | Float32Array,
    from: Float64Array | Float32Array,
    i: number,
    bit: number,
  ) => {
    const v = from[i]!;
    if (Number.isFinite(v)) {
      to[i] = v;
      return bit;
    }
    return 0;
  };
  for (let i = 0; i < n; i++) {
    const seq = clean.seq[i]!;
    let p = 0;
    if (seq === SEQ_NONE) out.sampleKey[i] = clean.ts[i]!;
    else {
      out.sampleKey[i] = seq;
      p |= PRESENT.seq;
    }
    p |= f64(out.lat, clean.lat, i, PRESENT.lat);
    p |= f64(out.lon, clean.lon, i, PRESENT.lon);
    p |= f64(out.latSmooth, clean.latSmooth, i, PRESENT.latSmooth);
    p |= f64(out.lonSmooth, clean.lonSmooth, i, PRESENT.lonSmooth);
    p |= f64(out.alt, clean.alt, i, PRESENT.alt);
    p |= f64(out.altSmooth, clean.altSmooth, i, PRESENT.altSmooth);
    p |= f64(out.speed, clean.speed, i, PRESENT.speed);
    p |= f64(out.distance, clean.distance, i, PRESENT.distance);
    if (clean.hr[i] !== 0) p |= PRESENT.hr;
    const cadence = clean.cadence[i]!;
    const power = clean.power[i]!;
    if (cadence !== 0xffff) {
      out.cadence[i] = cadence;
      p |= PRESENT.cadence;
    }
    if (power !== 0xffff) {
      out.power[i] = power;
      p |= PRESENT.power;
    }
    out.present[i] = p;
  }
  return out;
}

/** Appends a streams row in RowBinary (arrays: LEB128 length, then the little-endian elements). */
export function writeStreamRow(w: RowBinaryWriter, r: StreamRow): void {
  for (const s of [r.activityId, r.userId, r.deviceId, r.sessionId, r.sport]) w.string(s);
  w.u64(r.version);
  const n = r.length;
  w.varUInt(n);
  for (let i = 0; i < n; i++) w.u64(r.sampleKey[i]!);
  w.varUInt(n);
  for (let i = 0; i < n; i++) w.u64(r.ts[i]!);
  for (const a of [r.lat, r.lon, r.latSmooth, r.lonSmooth, r.alt, r.altSmooth, r.speed, r.distance, r.hr]) {
    w.varUInt(n);
    w.typed(a, n);
  }
  for (const a of [r.cadence, r.power, r.flags, r.present]) {
    w.varUInt(n);
    w.typed(a, n);
  }
  w.rows++;
}

/** A streams row as a JSONEachRow object (clients that cannot send a binary body). */
export function streamRowObject(r: StreamRow): Record<string, unknown> {
  const n = r.length;
  const arr = (a: ArrayLike<number>) => Array.from({ length: n }, (_, i) => a[i]!);
  return {
    activity_id: r.activityId,
    user_id: r.userId,
    device_id: r.deviceId,
    session_id: r.sessionId,
    sport: r.sport,
    version: r.version,
    sample_key: arr(r.sampleKey),
    ts: arr(r.ts),
    lat: arr(r.lat),
    lon: arr(r.lon),
    lat_smooth: arr(r.latSmooth),
    lon_smooth: arr(r.lonSmooth),
    alt: arr(r.alt),
    alt_smooth: arr(r.altSmooth),
    speed: arr(r.speed),
    distance_m: arr(r.distance),
    hr: arr(r.hr),
    cadence: arr(r.cadence),
    power: arr(r.power),
    flags: arr(r.flags),
    present: arr(r.present),
  };
}

// ---- the raw rows of a flush (samples sink) and the rows of a finalisation (session store) ----

const uint = (v: number | null | undefined, max: number): number | null =>
  v === null || v === undefined || !Number.isFinite(v) || v < 0 || v > max ? null : Math.round(v);

/** The `session_index` row of a session that a flush carried (`seenMs`: the worker's clock). */
export function sessionIndexRow(
  s: { userId: string; deviceId: string; sessionId: string; sport: string },
  partition: number,
  seenMs: number,
): Record<string, unknown> {
  return {
    user_id: s.userId,
    device_id: s.deviceId,
    session_id: s.sessionId,
    sport: s.sport,
    kafka_partition: partition,
    seen_ms: seenMs,
  };
}

/** A `strength_sets` row. */
export function strengthSetRow(b: TelemetryBatch, x: StrengthSet): Record<string, unknown> {
  return {
    user_id: b.userId,
    device_id: b.deviceId,
    session_id: b.sessionId,
    exercise: x.exercise,
    reps: uint(x.reps, 0xffffffff) ?? 0,
    weight_kg: fin(x.weightKg),
    start_ts: x.startTs,
    end_ts: x.endTs,
  };
}

/** A `manual_entries` row (a manual activity entry: duration and distance as the athlete stated them). */
export function manualEntryRow(b: TelemetryBatch, m: ManualEntry): Record<string, unknown> {
  return {
    user_id: b.userId,
    device_id: b.deviceId,
    session_id: b.sessionId,
    start_ts: m.startTs,
    duration_s: fin(m.durationS) ?? 0,
    distance_m: fin(m.distanceM) ?? 0,
    elev_gain_m: fin(m.elevGainM),
    calories: fin(m.calories),
  };
}

/** A `session_controls` row. */
export function controlRow(c: SessionControl): Record<string, unknown> {
  return {
    user_id: c.userId,
    device_id: c.deviceId,
    session_id: c.sessionId,
    sport: c.sport,
    kind: c.kind,
    ts: c.ts,
  };
}

/** An `activity_announcements` row: Kafka acknowledged the events of this activity version. */
export function announcementRow(it: {
  ref: { userId: string; deviceId: string; sessionId: string };
  version: number;
}): Record<string, unknown> {
  return {
    user_id: it.ref.userId,
    device_id: it.ref.deviceId,
    session_id: it.ref.sessionId,
    version: it.version,
  };
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function activityRow(s: ActivitySummary, version: number): Record<string, unknown> {
  return {
    activity_id: s.activityId,
    user_id: s.userId,
    device_id: s.deviceId,
    session_id: s.sessionId,
    sport: s.sport,
    version,
    algorithm_version: s.algorithmVersion,
    day: utcDay(s.startTs),
    start_ts: s.startTs,
    end_ts: s.endTs,
    elapsed_s: s.elapsedS,
    moving_s: s.movingS,
    distance_m: s.distanceM,
    device_distance_m: fin(s.deviceDistanceM),
    raw_distance_m: s.rawDistanceM,
    avg_speed_mps: s.avgSpeedMps,
    max_speed_mps: s.maxSpeedMps,
    avg_pace_s_per_km: fin(s.avgPaceSPerKm),
    elev_gain_m: s.elevGainM,
    elev_loss_m: s.elevLossM,
    min_alt_m: fin(s.minAltM),
    max_alt_m: fin(s.maxAltM),
    hr_avg: fin(s.hr?.avg),
    hr_max: fin(s.hr?.max),
    hr_zones_s: s.hr ? [...s.hr.zonesS] : [],
    hr_trimp: fin(s.hr?.trimp),
    hr_max_used: fin(s.hr?.maxHrUsed),
    hr_max_source: s.hr?.maxHrSource ?? '',
    cadence_avg: fin(s.cadenceAvg),
    power_avg: fin(s.powerAvg),
    power_max: fin(s.powerMax),
    normalized_power: fin(s.normalizedPower),
    calories: s.calories,
    calories_method: s.caloriesMethod,
    polyline: s.polyline,
    laps: JSON.stringify(s.laps),
    splits_km: JSON.stringify(s.splitsKm),
    splits_mile: JSON.stringify(s.splitsMile),
    best_efforts: JSON.stringify(s.bestEfforts),
    strength: s.strength ? JSON.stringify(s.strength) : '',
    sample_count: s.sampleCount,
    rejected_count: s.rejectedCount,
    duplicate_count: s.duplicateCount,
    summary: JSON.stringify(s),
  };
}
