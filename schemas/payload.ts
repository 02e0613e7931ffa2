// Validation of MQTT device payloads: the gateway's hot path.
//
// Contract (docs/payloads.md): a payload is accepted whole or refused whole with the FIRST reason
// found (checks run in a fixed order: size, syntax, top-level fields, then samples and sets in order,
// fields in schema order). A device therefore sees one consistent outcome per message and can fix
// and resend it; nothing is silently dropped from an accepted batch.
//
// Speed: one hand-rolled pass over the parsed object. Accepted JSON samples are normalised in place
// (absent optional fields become null, absent `lap` false), so the only allocations are the parser's
// own plus the result object. schemas/device-telemetry.schema.json states the same JSON contract
// declaratively; payload.test.ts checks that the two agree.

import { avroTypes } from './avro.js';
import { avroWellFormed } from './avro-bounds.js';
import type { Sample, SessionControl, StrengthSet, TelemetryBatch } from './types.gen.js';
import { type DlqReason, isSessionControlKind, isSport, SPORTS } from './vocabulary.js';
import { encodeConfluent } from './wire.js';

export { DLQ_REASONS, type DlqReason } from './vocabulary.js';

export type PayloadFormat = 'json' | 'avro';

export interface PayloadLimits {
  /** bytes; larger payloads are refused before parsing */
  maxPayloadBytes: number;
  /** per message, for samples and for strength sets each */
  maxSamplesPerBatch: number;
  /** how far a device clock may run ahead of the gateway's, ms */
  maxFutureMs: number;
  /** oldest sample accepted (offline buffers replayed late), ms before now */
  maxAgeMs: number;
}

export const DEFAULT_LIMITS: Readonly<PayloadLimits> = Object.freeze({
  maxPayloadBytes: 256 * 1024,
  maxSamplesPerBatch: 600,
  maxFutureMs: 5 * 60_000,
  maxAgeMs: 30 * 24 * 3_600_000,
});

/** Plausibility ranges of sample and set fields (inclusive). Documented in docs/payloads.md. */
export const FIELD_RANGES = {
  lat: [-90, 90],
  lon: [-180, 180],
  alt: [-1000, 10_000],
  acc: [0, 10_000],
  speed: [0, 150],
  dist: [0, 100_000_000],
  hr: [20, 250],
  cadence: [0, 300],
  power: [0, 3000],
  reps: [0, 10_000],
  weightKg: [0, 2000],
} as const;

/** Client session ids: what fits a Kafka key, a file name and a URL path without escaping. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const MAX_EXERCISE_LENGTH = 64;

export interface PayloadContext {
  /** from the authenticated connection, never from the payload */
  deviceId: string;
  userId: string;
  /** gateway receive time, ms since epoch */
  nowMs: number;
  limits: PayloadLimits;
  /** TelemetryBatch.source; default 'mqtt' */
  source?: string;
}

export interface Rejection {
  ok: false;
  reason: DlqReason;
  message: string;
}
export type TelemetryResult = { ok: true; batch: TelemetryBatch } | Rejection;
export type SessionResult = { ok: true; control: SessionControl } | Rejection;

type Obj = Record<string, unknown>;

function reject(reason: DlqReason, message: string): Rejection {
  return { ok: false, reason, message };
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and decodes a payload into a plain object, or refuses it (size and syntax). */
function decode(
  format: PayloadFormat,
  payload: Buffer,
  limits: PayloadLimits,
  avroType: 'DeviceTelemetry' | 'DeviceSession',
): { ok: true; value: Obj } | Rejection {
  if (payload.length > limits.maxPayloadBytes) {
    return reject(
      'payload_too_large',
      `payload is ${payload.length} bytes, the limit is ${limits.maxPayloadBytes}`,
    );
  }
  if (format === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return reject('malformed_json', `not JSON: ${(err as Error).message}`);
    }
    if (!isObject(parsed)) return reject('schema_violation', 'payload must be a JSON object');
    return { ok: true, value: parsed };
  }
  const type = avroTypes[avroType];
  if (!avroWellFormed(type, payload)) {
    return reject('malformed_avro', `not one ${avroType} record in Avro binary (truncated or corrupt)`);
  }
  try {
    return { ok: true, value: type.fromBuffer(payload) as unknown as Obj };
  } catch (err) {
    return reject('malformed_avro', `Avro decode failed: ${(err as Error).message}`);
  }
}

/** The first own key of `o` that is not in `known` (slow path: only called on a refusal). */
function unknownKey(o: Obj, known: readonly string[]): string {
  for (const k in o) if (!known.includes(k)) return k;
  return '?';
}

function countKeys(o: Obj): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

const TOP_KEYS = ['sessionId', 'sport', 'samples', 'sets'] as const;
const SAMPLE_KEYS = [
  'ts',
  'seq',
  'lat',
  'lon',
  'alt',
  'acc',
  'speed',
  'dist',
  'hr',
  'cadence',
  'power',
  'lap',
] as const;
const SET_KEYS = ['exercise', 'reps', 'weightKg', 'startTs', 'endTs'] as const;
const SESSION_KEYS = ['sessionId', 'kind', 'sport', 'ts'] as const;

// Names an item or field in a refusal message. Called only on refusal, so that accepted payloads
// build no strings.
function at(list: string, i: number, field = ''): string {
  if (i < 0) return field;
  return field ? `${list}[${i}].${field}` : `${list}[${i}]`;
}

/** Checks a device timestamp (field `field` of item `i` of `list`, or top-level when i < 0). */
function checkTs(
  v: unknown,
  list: string,
  i: number,
  field: string,
  minTs: number,
  maxTs: number,
): Rejection | undefined {
  if (!Number.isSafeInteger(v) || (v as number) < 0) {
    return reject(
      'schema_violation',
      `${at(list, i, field)} must be a non-negative integer (ms since epoch)`,
    );
  }
  if ((v as number) > maxTs)
    return reject('timestamp_in_future', `${at(list, i, field)} ${v} is ahead of the server clock`);
  if ((v as number) < minTs)
    return reject('timestamp_too_old', `${at(list, i, field)} ${v} is older than the accepted age`);
  return undefined;
}

/**
 * An optional number: absent or null is fine (normalised to null when `fix`); otherwise it must be
 * a number (an integer when `int`) within [lo, hi], else `rangeReason`.
 */
function checkNum(
  o: Obj,
  key: string,
  int: boolean,
  lo: number,
  hi: number,
  rangeReason: DlqReason,
  list: string,
  i: number,
  fix: boolean,
): Rejection | undefined {
  const v = o[key];
  if (v === undefined) {
    if (fix) o[key] = null;
    return undefined;
  }
  if (v === null) return undefined;
  if (typeof v !== 'number' || (int && !Number.isInteger(v))) {
    return reject(
      'schema_violation',
      `${at(list, i, key)} must be ${int ? 'an integer' : 'a number'} or null`,
    );
  }
  if (!(v >= lo && v <= hi)) {
    return reject(rangeReason, `${at(list, i, key)} = ${v} is outside [${lo}, ${hi}]`);
  }
  return undefined;
}

function checkSample(
  s: unknown,
  i: number,
  minTs: number,
  maxTs: number,
  json: boolean,
): Rejection | undefined {
  if (!isObject(s)) return reject('schema_violation', `${at('samples', i)} must be an object`);
  let r = checkTs(s.ts, 'samples', i, 'ts', minTs, maxTs);
  if (r) return r;
  const seq = s.seq;
  if (seq === undefined) {
    if (json) s.seq = null;
  } else if (seq !== null && (!Number.isSafeInteger(seq) || (seq as number) < 0)) {
    return reject('schema_violation', `${at('samples', i)}.seq must be a non-negative integer or null`);
  }
  const lat = s.lat;
  const lon = s.lon;
  if ((lat === undefined || lat === null) !== (lon === undefined || lon === null)) {
    return reject(
      'invalid_coordinates',
      `${at('samples', i)}: lat and lon must both be numbers or both be null`,
    );
  }
  if (lat === undefined || lat === null) {
    if (json) {
      s.lat = null;
      s.lon = null;
    }
  } else {
    if (typeof lat !== 'number' || typeof lon !== 'number') {
      return reject('schema_violation', `${at('samples', i)}.lat and .lon must be numbers or null`);
    }
    if (
      !(
        lat >= FIELD_RANGES.lat[0] &&
        lat <= FIELD_RANGES.lat[1] &&
        lon >= FIELD_RANGES.lon[0] &&
        lon <= FIELD_RANGES.lon[1]
      )
    ) {
      return reject('invalid_coordinates', `${at('samples', i)}: (${lat}, ${lon}) is not a WGS84 position`);
    }
    if (lat === 0 && lon === 0) {
      return reject('invalid_coordinates', `${at('samples', i)}: (0, 0) is a missing fix; send null instead`);
    }
  }
  r = checkNum(
    s,
    'alt',
    false,
    FIELD_RANGES.alt[0],
    FIELD_RANGES.alt[1],
    'invalid_sample',
    'samples',
    i,
    json,
  );
  if (r) return r;
  r = checkNum(
    s,
    'acc',
    false,
    FIELD_RANGES.acc[0],
    FIELD_RANGES.acc[1],
    'invalid_sample',
    'samples',
    i,
    json,
  );
  if (r) return r;
  r = checkNum(
    s,
    'speed',
    false,
    FIELD_RANGES.speed[0],
    FIELD_RANGES.speed[1],
    'invalid_sample',
    'samples',
    i,
    json,
  );
  if (r) return r;
  r = checkNum(
    s,
    'dist',
    false,
    FIELD_RANGES.dist[0],
    FIELD_RANGES.dist[1],
    'invalid_sample',
    'samples',
    i,
    json,
  );
  if (r) return r;
  r = checkNum(s, 'hr', true, FIELD_RANGES.hr[0], FIELD_RANGES.hr[1], 'hr_out_of_range', 'samples', i, json);
  if (r) return r;
  r = checkNum(
    s,
    'cadence',
    true,
    FIELD_RANGES.cadence[0],
    FIELD_RANGES.cadence[1],
    'invalid_sample',
    'samples',
    i,
    json,
  );
  if (r) return r;
  r = checkNum(
    s,
    'power',
    true,
    FIELD_RANGES.power[0],
    FIELD_RANGES.power[1],
    'invalid_sample',
    'samples',
    i,
    json,
  );
  if (r) return r;
  const lap = s.lap;
  if (lap === undefined) {
    if (json) s.lap = false;
  } else if (typeof lap !== 'boolean') {
    return reject('schema_violation', `${at('samples', i)}.lap must be a boolean`);
  }
  // Every known key is present now (absent ones were filled), so any extra key is an unknown field.
  if (json && countKeys(s) !== SAMPLE_KEYS.length) {
    return reject(
      'schema_violation',
      `${at('samples', i)} has an unknown field '${unknownKey(s, SAMPLE_KEYS)}'`,
    );
  }
  return undefined;
}

/** Length in characters (code points), as JSON Schema counts it; UTF-16 length is an upper bound. */
function codePoints(str: string): number {
  if (str.length <= MAX_EXERCISE_LENGTH) return str.length;
  let n = 0;
  for (const _ of str) n++;
  return n;
}

function checkSet(x: unknown, i: number, minTs: number, maxTs: number, json: boolean): Rejection | undefined {
  if (!isObject(x)) return reject('schema_violation', `${at('sets', i)} must be an object`);
  const ex = x.exercise;
  if (typeof ex !== 'string' || ex.length === 0 || codePoints(ex) > MAX_EXERCISE_LENGTH) {
    return reject(
      'schema_violation',
      `${at('sets', i)}.exercise must be a string of 1-${MAX_EXERCISE_LENGTH} characters`,
    );
  }
  const reps = x.reps;
  if (typeof reps !== 'number' || !Number.isInteger(reps)) {
    return reject('schema_violation', `${at('sets', i)}.reps must be an integer`);
  }
  if (!(reps >= 0 && reps <= 10_000))
    return reject('invalid_sample', `${at('sets', i)}.reps = ${reps} is outside [0, 10000]`);
  let r = checkNum(
    x,
    'weightKg',
    false,
    FIELD_RANGES.weightKg[0],
    FIELD_RANGES.weightKg[1],
    'invalid_sample',
    'sets',
    i,
    json,
  );
  if (r) return r;
  r = checkTs(x.startTs, 'sets', i, 'startTs', minTs, maxTs);
  if (r) return r;
  const end = x.endTs;
  if (end === undefined) {
    if (json) x.endTs = null;
  } else if (end !== null) {
    r = checkTs(end, 'sets', i, 'endTs', minTs, maxTs);
    if (r) return r;
    if ((end as number) < (x.startTs as number)) {
      return reject('invalid_sample', `${at('sets', i)}.endTs is before its startTs`);
    }
  }
  if (json && countKeys(x) !== SET_KEYS.length) {
    return reject('schema_violation', `${at('sets', i)} has an unknown field '${unknownKey(x, SET_KEYS)}'`);
  }
  return undefined;
}

function checkSessionId(v: unknown): Rejection | undefined {
  if (typeof v !== 'string' || !SESSION_ID_PATTERN.test(v)) {
    return reject('schema_violation', 'sessionId must be 1-128 characters of A-Z a-z 0-9 . _ : -');
  }
  return undefined;
}

function checkSport(v: unknown): Rejection | undefined {
  if (!isSport(v)) return reject('schema_violation', `sport must be one of ${SPORTS.join(', ')}`);
  return undefined;
}

/**
 * Validates a payload published on `v1/devices/{deviceId}/telemetry/{json|avro}` and builds the
 * TelemetryBatch the gateway produces to Kafka. Device and user come from `ctx` (the authenticated
 * connection), never from the payload.
 */
export function parseDeviceTelemetry(
  format: PayloadFormat,
  payload: Buffer,
  ctx: PayloadContext,
): TelemetryResult {
  const limits = ctx.limits;
  const decoded = decode(format, payload, limits, 'DeviceTelemetry');
  if (!decoded.ok) return decoded;
  const o = decoded.value;
  const json = format === 'json';
  let r = checkSessionId(o.sessionId) ?? checkSport(o.sport);
  if (r) return r;
  const samples = o.samples;
  if (!Array.isArray(samples)) return reject('schema_violation', 'samples must be an array');
  let sets = o.sets;
  let topKeys = 3;
  if (sets === undefined) {
    sets = [];
  } else {
    topKeys++;
    if (!Array.isArray(sets)) return reject('schema_violation', 'sets must be an array');
  }
  if (json && countKeys(o) !== topKeys) {
    return reject('schema_violation', `unknown top-level field '${unknownKey(o, TOP_KEYS)}'`);
  }
  const setList = sets as unknown[];
  if (samples.length > limits.maxSamplesPerBatch || setList.length > limits.maxSamplesPerBatch) {
    return reject(
      'too_many_samples',
      `${samples.length} samples and ${setList.length} sets; the limit is ${limits.maxSamplesPerBatch} each`,
    );
  }
  if (samples.length === 0 && setList.length === 0) {
    return reject('schema_violation', 'empty batch: send at least one sample or set');
  }
  const maxTs = ctx.nowMs + limits.maxFutureMs;
  const minTs = ctx.nowMs - limits.maxAgeMs;
  for (let i = 0; i < samples.length; i++) {
    r = checkSample(samples[i], i, minTs, maxTs, json);
    if (r) return r;
  }
  for (let i = 0; i < setList.length; i++) {
    r = checkSet(setList[i], i, minTs, maxTs, json);
    if (r) return r;
  }
  return {
    ok: true,
    batch: {
      deviceId: ctx.deviceId,
      userId: ctx.userId,
      sessionId: o.sessionId as string,
      sport: o.sport as TelemetryBatch['sport'],
      samples: samples as Sample[],
      sets: setList as StrengthSet[],
      source: ctx.source ?? 'mqtt',
      receivedAt: ctx.nowMs,
    },
  };
}

/** Validates a payload published on `v1/devices/{deviceId}/session/{json|avro}`. */
export function parseDeviceSession(
  format: PayloadFormat,
  payload: Buffer,
  ctx: PayloadContext,
): SessionResult {
  const limits = ctx.limits;
  const decoded = decode(format, payload, limits, 'DeviceSession');
  if (!decoded.ok) return decoded;
  const o = decoded.value;
  const r =
    checkSessionId(o.sessionId) ??
    (isSessionControlKind(o.kind)
      ? undefined
      : reject('schema_violation', 'kind must be one of start, pause, resume, end, lap')) ??
    checkSport(o.sport) ??
    checkTs(o.ts, '', -1, 'ts', ctx.nowMs - limits.maxAgeMs, ctx.nowMs + limits.maxFutureMs);
  if (r) return r;
  if (format === 'json' && countKeys(o) !== SESSION_KEYS.length) {
    return reject('schema_violation', `unknown top-level field '${unknownKey(o, SESSION_KEYS)}'`);
  }
  return {
    ok: true,
    control: {
      deviceId: ctx.deviceId,
      userId: ctx.userId,
      sessionId: o.sessionId as string,
      kind: o.kind as SessionControl['kind'],
      sport: o.sport as SessionControl['sport'],
      ts: o.ts as number,
      receivedAt: ctx.nowMs,
    },
  };
}

// ---- the Kafka record of a telemetry payload ------------------------------------------------------
//
// The gateway turns every accepted telemetry payload into a Confluent-framed TelemetryBatch. Two paths
// build exactly the same bytes (payload.test.ts compares them with avsc's encoding):
//
// - Avro payloads whose Avro is canonical (one block per array, shortest varints, no strength sets) are
//   checked in one pass over the bytes, with the same rules as checkSample, and copied: a DeviceTelemetry
//   body (sessionId, sport, samples, sets) is byte for byte the middle of a TelemetryBatch, because Sample
//   is the same record in both. No objects are built, no avsc decode or encode runs, and the pre-walk of
//   avroWellFormed is not needed (this pass bounds every count by the bytes left). Anything else — a
//   payload this pass would refuse, or one it does not handle — takes the general path below, so a
//   refusal always comes from parseDeviceTelemetry with its first reason.
// - Everything else: parseDeviceTelemetry, then a hand-written encoder of the batch (avsc's generated
//   writer spent most of its time choosing union branches), or avsc when the batch has strength sets.

export type TelemetryRecordResult =
  | {
      ok: true;
      sessionId: string;
      /** samples in the batch */
      samples: number;
      /** Confluent wire format: magic byte, schema id, Avro TelemetryBatch */
      value: Buffer;
    }
  | Rejection;

/**
 * Validates a telemetry payload (the rules of parseDeviceTelemetry) and returns the Kafka record value:
 * the TelemetryBatch framed with `schemaId`. Refusals are those of parseDeviceTelemetry, reason for reason.
 */
export function telemetryRecord(
  format: PayloadFormat,
  payload: Buffer,
  ctx: PayloadContext,
  schemaId: number,
): TelemetryRecordResult {
  if (format === 'avro') {
    const fast = avroTelemetryRecord(payload, ctx, schemaId);
    if (fast !== null) return fast;
  }
  const r = parseDeviceTelemetry(format, payload, ctx);
  if (!r.ok) return r;
  return {
    ok: true,
    sessionId: r.batch.sessionId,
    samples: r.batch.samples.length,
    value: encodeTelemetryBatch(schemaId, r.batch),
  };
}

// One growing scratch buffer: encoding is synchronous, so it is never shared by two calls.
let out = Buffer.allocUnsafe(64 * 1024);
// DataView's float writes compile to a store; Buffer's writeDoubleLE/writeFloatLE are library calls.
let outView = new DataView(out.buffer, out.byteOffset, out.length);
let op = 0;

function ensure(bytes: number): void {
  if (op + bytes <= out.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, op + bytes));
  out.copy(bigger, 0, 0, op);
  out = bigger;
  outView = new DataView(out.buffer, out.byteOffset, out.length);
}

/** Avro long/int of a non-negative integer (zig-zag: 2n), shortest form, as avsc writes it. */
function putNat(n: number): void {
  let z = n * 2;
  if (z < 0x80000000) {
    while (z > 127) {
      out[op++] = (z & 127) | 128;
      z >>>= 7;
    }
  } else {
    while (z >= 128) {
      out[op++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
  }
  out[op++] = z;
}

function putString(s: string): void {
  const n = Buffer.byteLength(s, 'utf8');
  ensure(n + 10);
  putNat(n);
  op += out.write(s, op, 'utf8');
}

/** Confluent header, then the batch's first fields (deviceId, userId). */
function putHeader(schemaId: number, deviceId: string, userId: string): void {
  out[0] = 0; // Confluent magic byte
  out.writeInt32BE(schemaId, 1);
  op = 5;
  putString(deviceId);
  putString(userId);
}

/** The batch's last fields (source, receivedAt); returns a copy of the record. */
function putTrailer(source: string, receivedAt: number): Buffer {
  putString(source);
  ensure(10);
  putNat(receivedAt);
  return Buffer.from(out.subarray(0, op));
}

/** Bytes a Sample takes at most: long + 3 unions of long/double + 3 of float + 1 of double + 3 of int + bool. */
const MAX_SAMPLE_BYTES = 10 + 11 + 9 + 9 + 5 + 5 + 5 + 9 + 6 + 6 + 6 + 1;

/**
 * Confluent-framed Avro of a validated batch (its numbers are in range: non-negative integers where the
 * schema says long/int). Byte-identical to encodeConfluent(schemaId, avroTypes.TelemetryBatch, batch).
 */
export function encodeTelemetryBatch(schemaId: number, batch: TelemetryBatch): Buffer {
  if (batch.sets.length > 0) return encodeConfluent(schemaId, avroTypes.TelemetryBatch, batch);
  putHeader(schemaId, batch.deviceId, batch.userId);
  putString(batch.sessionId);
  putString(batch.sport);
  const samples = batch.samples;
  ensure(20 + samples.length * MAX_SAMPLE_BYTES);
  if (samples.length > 0) putNat(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    putNat(s.ts);
    putOptNat(s.seq);
    putOptDouble(s.lat);
    putOptDouble(s.lon);
    putOptFloat(s.alt);
    putOptFloat(s.acc);
    putOptFloat(s.speed);
    putOptDouble(s.dist);
    putOptNat(s.hr);
    putOptNat(s.cadence);
    putOptNat(s.power);
    out[op++] = s.lap ? 1 : 0;
  }
  out[op++] = 0; // end of samples
  out[op++] = 0; // sets: empty
  return putTrailer(batch.source, batch.receivedAt);
}

// Union ["null", T]: branch 0 is null, branch 1 (zig-zag 2) the value.
function putOptNat(v: number | null | undefined): void {
  if (v === null || v === undefined) out[op++] = 0;
  else {
    out[op++] = 2;
    putNat(v);
  }
}
function putOptDouble(v: number | null | undefined): void {
  if (v === null || v === undefined) out[op++] = 0;
  else {
    out[op++] = 2;
    outView.setFloat64(op, v, true);
    op += 8;
  }
}
function putOptFloat(v: number | null | undefined): void {
  if (v === null || v === undefined) out[op++] = 0;
  else {
    out[op++] = 2;
    outView.setFloat32(op, v, true);
    op += 4;
  }
}

// ---- Avro telemetry, one pass over the bytes ------------------------------------------------------

let ip = 0;
/** the payload being read, as a DataView (float reads compile to a load) */
let inView: DataView = new DataView(new ArrayBuffer(0));

/** An unsigned varint in its shortest form, at most 8 bytes; NaN when truncated, longer or not shortest. */
function readVarint(b: Buffer): number {
  let x = b[ip++];
  if (x === undefined) return Number.NaN;
  if (x < 128) return x;
  let n = x & 127;
  let mul = 128;
  for (let i = 1; i < 8; i++) {
    x = b[ip++];
    if (x === undefined) return Number.NaN;
    n += (x & 127) * mul;
    if (x < 128) return x === 0 ? Number.NaN : n;
    mul *= 128;
  }
  return Number.NaN;
}

/** A non-negative Avro long/int (zig-zag even) below 2^52, else -1 (larger ones take the general path). */
function readNat(b: Buffer): number {
  const z = readVarint(b);
  return z % 2 === 0 && z <= Number.MAX_SAFE_INTEGER ? z / 2 : -1; // NaN % 2 is NaN: -1
}

/** A union ["null", T] branch: 0 null, 1 value, -1 anything else. */
function readBranch(b: Buffer): number {
  const x = b[ip++];
  return x === 0 ? 0 : x === 2 ? 1 : -1;
}

/** Bytes allowed in a session id (SESSION_ID_PATTERN). */
const SESSION_ID_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-')
  SESSION_ID_BYTE[c.charCodeAt(0)] = 1;

function inRange(v: number, range: readonly [number, number]): boolean {
  return v >= range[0] && v <= range[1];
}

/** An optional float field within `range`: false when it is out of range or not canonical. */
function okOptFloat(b: Buffer, range: readonly [number, number]): boolean {
  const br = readBranch(b);
  if (br === 0) return true;
  if (br < 0 || ip + 4 > b.length) return false;
  const v = inView.getFloat32(ip, true);
  ip += 4;
  return inRange(v, range);
}
function okOptDouble(b: Buffer, range: readonly [number, number]): boolean {
  const br = readBranch(b);
  if (br === 0) return true;
  if (br < 0 || ip + 8 > b.length) return false;
  const v = inView.getFloat64(ip, true);
  ip += 8;
  return inRange(v, range);
}
function okOptInt(b: Buffer, range: readonly [number, number]): boolean {
  const br = readBranch(b);
  if (br === 0) return true;
  return br > 0 && inRange(readNat(b), range);
}

/**
 * The TelemetryBatch record of a canonical Avro DeviceTelemetry payload that passes every check, or null:
 * then parseDeviceTelemetry decides (it refuses, or accepts a form this pass does not take).
 */
export function avroTelemetryRecord(
  b: Buffer,
  ctx: PayloadContext,
  schemaId: number,
): TelemetryRecordResult | null {
  const limits = ctx.limits;
  if (b.length > limits.maxPayloadBytes) return null;
  ip = 0;
  inView = new DataView(b.buffer, b.byteOffset, b.length);
  // sessionId
  const idLen = readNat(b);
  if (!(idLen >= 1 && idLen <= 128) || ip + idLen > b.length) return null;
  const idStart = ip;
  for (; ip < idStart + idLen; ip++) if (SESSION_ID_BYTE[b[ip]!] !== 1) return null;
  // sport (ASCII, one of SPORTS)
  const sportLen = readNat(b);
  if (!(sportLen >= 1 && sportLen <= 16) || ip + sportLen > b.length) return null;
  const sport = b.toString('latin1', ip, ip + sportLen);
  ip += sportLen;
  if (!isSport(sport)) return null;
  // samples: one block of 1..maxSamplesPerBatch items, then the end marker
  const n = readNat(b);
  if (!(n >= 1 && n <= limits.maxSamplesPerBatch)) return null;
  const maxTs = ctx.nowMs + limits.maxFutureMs;
  const minTs = ctx.nowMs - limits.maxAgeMs;
  for (let i = 0; i < n; i++) {
    const ts = readNat(b);
    if (!(ts >= 0 && ts >= minTs && ts <= maxTs)) return null;
    const seqBranch = readBranch(b);
    if (seqBranch < 0 || (seqBranch === 1 && readNat(b) < 0)) return null;
    const latBranch = readBranch(b);
    if (latBranch < 0 || ip + latBranch * 8 > b.length) return null;
    const lat = latBranch === 1 ? inView.getFloat64(ip, true) : 0;
    ip += latBranch * 8;
    if (readBranch(b) !== latBranch || ip + latBranch * 8 > b.length) return null;
    if (latBranch === 1) {
      const lon = inView.getFloat64(ip, true);
      ip += 8;
      if (!inRange(lat, FIELD_RANGES.lat) || !inRange(lon, FIELD_RANGES.lon) || (lat === 0 && lon === 0))
        return null;
    }
    if (
      !okOptFloat(b, FIELD_RANGES.alt) ||
      !okOptFloat(b, FIELD_RANGES.acc) ||
      !okOptFloat(b, FIELD_RANGES.speed) ||
      !okOptDouble(b, FIELD_RANGES.dist) ||
      !okOptInt(b, FIELD_RANGES.hr) ||
      !okOptInt(b, FIELD_RANGES.cadence) ||
      !okOptInt(b, FIELD_RANGES.power)
    )
      return null;
    const lap = b[ip++];
    if (lap !== 0 && lap !== 1) return null;
  }
  // end of samples, empty sets, nothing after
  if (b[ip] !== 0 || b[ip + 1] !== 0 || ip + 2 !== b.length) return null;
  putHeader(schemaId, ctx.deviceId, ctx.userId);
  ensure(b.length);
  b.copy(out, op);
  op += b.length;
  return {
    ok: true,
    sessionId: b.toString('latin1', idStart, idStart + idLen),
    samples: n,
    value: putTrailer(ctx.source ?? 'mqtt', ctx.nowMs),
  };
}
