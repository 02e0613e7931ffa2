// Validation of MQTT device payloads (JSON, and Avro decoded to the same objects): the gateway's hot
// path. The Kafka record of an accepted telemetry payload is telemetry-record.ts; the one-pass check of
// canonical Avro, which takes the same decisions without building objects, avro-telemetry-check.ts.
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
import { SAMPLE_FIELDS } from './sample.js';
import type { Sample, SessionControl, StrengthSet, TelemetryBatch } from './types.gen.js';
import { type DlqReason, isDeviceControlKind, isSport, SPORTS } from './vocabulary.js';

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
  if (json && countKeys(s) !== SAMPLE_FIELDS.length) {
    return reject(
      'schema_violation',
      `${at('samples', i)} has an unknown field '${unknownKey(s, SAMPLE_FIELDS)}'`,
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
      manual: null,
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
    (isDeviceControlKind(o.kind)
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
