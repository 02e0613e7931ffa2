// One-shot uploads (POST /v1/activities): a finished workout in one request becomes the records a device
// would have sent live — a start, TelemetryBatch records of at most DEFAULT_LIMITS.maxSamplesPerBatch
// samples (or strength sets, or one manual entry), lap controls, an end — so that the worker computes it with the same stages as a live session
// and finalises it at once on the end. Pure: the route validates the shape (JSON schema), this checks what
// a schema cannot say (limits over the whole upload) and builds the records.

import { createHash } from 'node:crypto';
import { activityIdFor } from '../../pipelines/index.js';
import { avroTypes } from '../../schemas/avro.js';
import { DEFAULT_LIMITS } from '../../schemas/payload.js';
import { encodeTelemetryBatch } from '../../schemas/telemetry-record.js';
import type { Sample, SessionControl, StrengthSet, TelemetryBatch } from '../../schemas/types.js';
import type { Sport } from '../../schemas/vocabulary.js';
import { encodeConfluent } from '../../schemas/wire.js';
import { ApiError } from './errors.js';

/** Limits of one upload (docs/uploads.md); bytes are the route's body limit. */
export const UPLOAD_LIMITS = Object.freeze({
  maxBytes: 32 * 1024 * 1024,
  maxPoints: 200_000,
  /** from start_time to the last point or set */
  maxSpanMs: 48 * 3_600_000,
  maxSets: 1_000,
  maxLaps: 1_000,
});

/** The device id every upload's records carry: uploads come from no device. */
export const UPLOAD_DEVICE_ID = 'upload';

export interface DataPoint {
  time: string;
  lat?: number | null;
  lng?: number | null;
  altitude?: number | null;
  heart_rate?: number | null;
  cadence?: number | null;
  power?: number | null;
  speed?: number | null;
  distance?: number | null;
}

export interface StrengthSetIn {
  exercise: string;
  reps: number;
  weight_kg?: number | null;
  duration_s?: number | null;
  rest_s?: number | null;
}

export type UploadBody =
  | {
      type: Exclude<Sport, 'strength'>;
      start_time: string;
      data_points: DataPoint[];
      laps?: { start_time: string }[];
      name?: string;
      notes?: string;
      client_activity_id?: string;
    }
  | {
      type: 'strength';
      start_time: string;
      sets: StrengthSetIn[];
      name?: string;
      notes?: string;
      client_activity_id?: string;
    }
  | ManualBody;

/** A workout logged by hand: its figures, no points or sets (any sport, with or without GPS). */
export interface ManualBody {
  type: Sport;
  start_time: string;
  duration_s: number;
  distance_m: number;
  elevation_gain_m?: number | null;
  calories?: number | null;
  name?: string;
  notes?: string;
  client_activity_id?: string;
}

export type UploadKind = 'recorded' | 'strength' | 'manual';

export type UploadRecord =
  | { name: 'TelemetryBatch'; value: TelemetryBatch }
  | { name: 'SessionControl'; value: SessionControl };

/**
 * A record's Kafka value (Confluent wire format) under the registry's schema ids: what the telemetry producer
 * sends, and what an import's worker thread encodes ahead of it (import-prepare.ts).
 */
export function encodeUploadRecord(
  ids: { TelemetryBatch: number; SessionControl: number },
  r: UploadRecord,
): Buffer {
  return r.name === 'TelemetryBatch'
    ? encodeTelemetryBatch(ids.TelemetryBatch, r.value)
    : encodeConfluent(ids.SessionControl, avroTypes.SessionControl, r.value);
}

export interface UploadPlan {
  kind: UploadKind;
  sessionId: string;
  activityId: string;
  bodySha256: string;
  records: UploadRecord[];
  points: number;
}

/**
 * The session id of an upload: a digest of (caller, idempotency key), so that the activity id
 * (pipelines' activityIdFor(userId, UPLOAD_DEVICE_ID, sessionId)) is known before anything is stored and every retry
 * lands in the same session.
 */
export function uploadSessionId(userId: string, idempotencyKey: string): string {
  const h = createHash('sha256').update(`${userId}\u0000${idempotencyKey}`, 'utf8').digest('hex');
  return `upload-${h.slice(0, 40)}`;
}

export function uploadActivityId(userId: string, idempotencyKey: string): string {
  return activityIdFor(userId, UPLOAD_DEVICE_ID, uploadSessionId(userId, idempotencyKey));
}

/**
 * SHA-256 of the body as parsed, without client_activity_id (it names the key, not the workout): the
 * same JSON sent again hashes the same.
 */
export function bodyDigest(body: UploadBody): string {
  const { client_activity_id: _, ...rest } = body;
  return createHash('sha256').update(JSON.stringify(rest), 'utf8').digest('hex');
}

const ms = (iso: string): number => Date.parse(iso);

/** Records of an upload, or an ApiError naming the first limit or rule it breaks. */
export function planUpload(
  userId: string,
  idempotencyKey: string,
  body: UploadBody,
  receivedAt: number,
): UploadPlan {
  const sessionId = uploadSessionId(userId, idempotencyKey);
  const ids = { deviceId: UPLOAD_DEVICE_ID, userId, sessionId };
  const startTs = ms(body.start_time);
  const control = (kind: SessionControl['kind'], ts: number): UploadRecord => ({
    name: 'SessionControl',
    value: { ...ids, kind, sport: body.type, ts, receivedAt },
  });
  const within = (ts: number, what: string) => {
    if (ts < startTs)
      throw new ApiError('upload_out_of_order', `${what} is before start_time ${body.start_time}`);
    if (ts - startTs > UPLOAD_LIMITS.maxSpanMs)
      throw new ApiError(
        'upload_span_too_long',
        `${what} is more than ${UPLOAD_LIMITS.maxSpanMs / 3_600_000} h after start_time`,
      );
  };
  const base = {
    sessionId,
    activityId: activityIdFor(userId, UPLOAD_DEVICE_ID, sessionId),
    bodySha256: bodyDigest(body),
  };

  if ('duration_s' in body) {
    const endTs = startTs + Math.round(body.duration_s * 1000);
    within(endTs, 'start_time + duration_s');
    const records: UploadRecord[] = [
      control('start', startTs),
      {
        name: 'TelemetryBatch',
        value: {
          ...ids,
          sport: body.type,
          samples: [],
          sets: [],
          source: 'upload',
          receivedAt,
          manual: {
            startTs,
            durationS: body.duration_s,
            distanceM: body.distance_m,
            elevGainM: body.elevation_gain_m ?? null,
            calories: body.calories ?? null,
          },
        },
      },
      control('end', endTs),
    ];
    return { ...base, kind: 'manual', records, points: 0 };
  }

  if (body.type === 'strength') {
    if (body.sets.length > UPLOAD_LIMITS.maxSets)
      throw new ApiError('upload_too_many_points', `more than ${UPLOAD_LIMITS.maxSets} sets`);
    const sets: StrengthSet[] = [];
    let t = startTs;
    for (const s of body.sets) {
      const endTs = t + Math.round((s.duration_s ?? 0) * 1000);
      sets.push({ exercise: s.exercise, reps: s.reps, weightKg: s.weight_kg ?? null, startTs: t, endTs });
      t = endTs + Math.round((s.rest_s ?? 0) * 1000);
    }
    within(sets.at(-1)?.endTs ?? startTs, 'the last set');
    const records: UploadRecord[] = [control('start', startTs)];
    for (let i = 0; i < sets.length; i += DEFAULT_LIMITS.maxSamplesPerBatch) {
      records.push({
        name: 'TelemetryBatch',
        value: {
          ...ids,
          sport: body.type,
          samples: [],
          sets: sets.slice(i, i + DEFAULT_LIMITS.maxSamplesPerBatch),
          source: 'upload',
          receivedAt,
          manual: null,
        },
      });
    }
    records.push(control('end', sets.at(-1)?.endTs ?? startTs));
    return { ...base, kind: 'strength', records, points: 0 };
  }

  const points = body.data_points;
  if (points.length > UPLOAD_LIMITS.maxPoints)
    throw new ApiError(
      'upload_too_many_points',
      `${points.length} data points, at most ${UPLOAD_LIMITS.maxPoints}`,
    );
  if ((body.laps?.length ?? 0) > UPLOAD_LIMITS.maxLaps)
    throw new ApiError('upload_too_many_points', `more than ${UPLOAD_LIMITS.maxLaps} laps`);
  const samples: Sample[] = new Array(points.length);
  let lastTs = startTs;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const ts = ms(p.time);
    within(ts, `data_points[${i}].time`);
    if (ts < lastTs && i > 0)
      throw new ApiError('upload_out_of_order', `data_points[${i}].time goes back from the point before`);
    lastTs = ts;
    if ((p.lat == null) !== (p.lng == null))
      throw new ApiError('validation_failed', `data_points[${i}]: lat and lng come together`);
    samples[i] = {
      ts,
      seq: i,
      lat: p.lat ?? null,
      lon: p.lng ?? null,
      alt: p.altitude ?? null,
      acc: null,
      speed: p.speed ?? null,
      dist: p.distance ?? null,
      hr: p.heart_rate ?? null,
      cadence: p.cadence ?? null,
      power: p.power ?? null,
      lap: false,
    };
  }
  const marks: SessionMark[] = [];
  for (const [i, lap] of (body.laps ?? []).entries()) {
    const ts = ms(lap.start_time);
    within(ts, `laps[${i}].start_time`);
    // a lap control closes the lap before it: the first lap opens with the activity
    if (ts > startTs) marks.push({ kind: 'lap', ts });
  }
  const records = recordedSessionRecords(
    { ...ids, sport: body.type, source: 'upload', receivedAt },
    samples,
    { startTs, endTs: lastTs, marks },
  );
  return { ...base, kind: 'recorded', records, points: samples.length };
}

/** A device-side marker inside a recorded session: a lap end, a pause or a resume (device time, ms UTC). */
export interface SessionMark {
  kind: 'lap' | 'pause' | 'resume';
  ts: number;
}

/**
 * The records of one recorded session, as a device would have sent them live: a `start` control,
 * TelemetryBatch records of at most DEFAULT_LIMITS.maxSamplesPerBatch samples, the session's lap, pause and
 * resume controls, an `end` control. The one builder of uploads (POST /v1/activities) and file imports
 * (services/api/imports.ts), so both reach the worker in the same shape.
 */
export function recordedSessionRecords(
  session: {
    deviceId: string;
    userId: string;
    sessionId: string;
    sport: Sport;
    source: 'upload' | 'import';
    receivedAt: number;
  },
  samples: readonly Sample[],
  span: { startTs: number; endTs: number; marks?: readonly SessionMark[] },
): UploadRecord[] {
  const { source, ...ids } = session;
  const control = (kind: SessionControl['kind'], ts: number): UploadRecord => ({
    name: 'SessionControl',
    value: { ...ids, kind, ts },
  });
  const records: UploadRecord[] = [control('start', span.startTs)];
  for (let i = 0; i < samples.length; i += DEFAULT_LIMITS.maxSamplesPerBatch) {
    records.push({
      name: 'TelemetryBatch',
      value: {
        deviceId: ids.deviceId,
        userId: ids.userId,
        sessionId: ids.sessionId,
        sport: ids.sport,
        samples: samples.slice(i, i + DEFAULT_LIMITS.maxSamplesPerBatch),
        sets: [],
        source,
        receivedAt: ids.receivedAt,
        manual: null,
      },
    });
  }
  for (const m of span.marks ?? []) records.push(control(m.kind, m.ts));
  records.push(control('end', span.endTs));
  return records;
}
