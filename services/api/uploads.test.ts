import { describe, expect, test } from 'vitest';
import { activityIdFor } from '../../pipelines/index.js';
import { DEFAULT_LIMITS } from '../../schemas/payload.js';
import type { ApiError } from './errors.js';
import {
  bodyDigest,
  planUpload,
  UPLOAD_DEVICE_ID,
  UPLOAD_LIMITS,
  type UploadBody,
  uploadSessionId,
} from './uploads.js';

const start = Date.parse('2026-11-29T07:00:00Z');
const at = (ms: number) => new Date(ms).toISOString();
const run = (n: number, stepMs = 1000): UploadBody => ({
  type: 'running',
  start_time: at(start),
  data_points: Array.from({ length: n }, (_, i) => ({
    time: at(start + i * stepMs),
    lat: 47,
    lng: 8,
    heart_rate: 140,
  })),
});
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as ApiError).code;
  }
  return 'accepted';
};

describe('planUpload', () => {
  test('a recorded workout: start, batches of the gateway size, laps, end at the last point', () => {
    const body = { ...run(1500), laps: [{ start_time: at(start) }, { start_time: at(start + 600_000) }] };
    const p = planUpload('u1', 'k1', body, 99);
    expect(p.kind).toBe('recorded');
    expect(p.sessionId).toBe(uploadSessionId('u1', 'k1'));
    expect(p.activityId).toBe(activityIdFor('u1', UPLOAD_DEVICE_ID, p.sessionId));
    const names = p.records.map((r) => (r.name === 'SessionControl' ? r.value.kind : r.value.samples.length));
    // the first lap opens with the activity: only the second lap start is a marker
    expect(names).toEqual([
      'start',
      DEFAULT_LIMITS.maxSamplesPerBatch,
      DEFAULT_LIMITS.maxSamplesPerBatch,
      300,
      'lap',
      'end',
    ]);
    const end = p.records.at(-1)!;
    expect(end.name === 'SessionControl' && end.value.ts).toBe(start + 1499_000);
    const first = p.records[1]!;
    if (first.name !== 'TelemetryBatch') throw new Error('expected a batch');
    expect(first.value.source).toBe('upload');
    expect(first.value.samples[3]).toMatchObject({
      ts: start + 3000,
      seq: 3,
      lat: 47,
      lon: 8,
      hr: 140,
      acc: null,
    });
  });

  test('strength sets are laid out from start_time by duration and rest', () => {
    const p = planUpload(
      'u1',
      'k2',
      {
        type: 'strength',
        start_time: at(start),
        sets: [
          { exercise: 'squat', reps: 5, weight_kg: 100, duration_s: 30, rest_s: 90 },
          { exercise: 'squat', reps: 5, weight_kg: 100, duration_s: 30 },
        ],
      },
      1,
    );
    const batch = p.records[1]!;
    if (batch.name !== 'TelemetryBatch') throw new Error('expected a batch');
    expect(batch.value.sets.map((s) => [s.startTs - start, s.endTs! - start])).toEqual([
      [0, 30_000],
      [120_000, 150_000],
    ]);
    expect(p.kind).toBe('strength');
  });

  test('the session and activity ids depend on caller and key only', () => {
    expect(uploadSessionId('u1', 'k')).toBe(uploadSessionId('u1', 'k'));
    expect(uploadSessionId('u1', 'k')).not.toBe(uploadSessionId('u2', 'k'));
    expect(uploadSessionId('u1', 'k')).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });

  test('the body digest ignores client_activity_id and sees every other change', () => {
    const a = run(3);
    expect(bodyDigest({ ...a, client_activity_id: 'x' })).toBe(bodyDigest(a));
    expect(bodyDigest({ ...a, name: 'n' })).not.toBe(bodyDigest(a));
  });

  test('limits and order', () => {
    expect(codeOf(() => planUpload('u', 'k', run(UPLOAD_LIMITS.maxPoints + 1, 10), 0))).toBe(
      'upload_too_many_points',
    );
    expect(codeOf(() => planUpload('u', 'k', run(UPLOAD_LIMITS.maxPoints, 10), 0))).toBe('accepted');
    const long = run(2, UPLOAD_LIMITS.maxSpanMs + 1);
    expect(codeOf(() => planUpload('u', 'k', long, 0))).toBe('upload_span_too_long');
    const back = run(3);
    'data_points' in back && back.data_points.reverse();
    expect(codeOf(() => planUpload('u', 'k', back, 0))).toBe('upload_out_of_order');
    const half = run(1);
    if ('data_points' in half) half.data_points[0]!.lng = null;
    expect(codeOf(() => planUpload('u', 'k', half, 0))).toBe('validation_failed');
  });

  test('a manual entry: start, one batch with the entry and no samples or sets, end at start + duration', () => {
    const body: UploadBody = {
      type: 'walking',
      start_time: at(start),
      duration_s: 1800.5,
      distance_m: 2500,
      calories: 150,
    };
    const p = planUpload('u1', 'k2', body, 7);
    expect(p.kind).toBe('manual');
    expect(p.points).toBe(0);
    const ids = { deviceId: UPLOAD_DEVICE_ID, userId: 'u1', sessionId: uploadSessionId('u1', 'k2') };
    expect(p.records).toEqual([
      {
        name: 'SessionControl',
        value: { ...ids, kind: 'start', sport: 'walking', ts: start, receivedAt: 7 },
      },
      {
        name: 'TelemetryBatch',
        value: {
          ...ids,
          sport: 'walking',
          samples: [],
          sets: [],
          source: 'upload',
          receivedAt: 7,
          manual: { startTs: start, durationS: 1800.5, distanceM: 2500, elevGainM: null, calories: 150 },
        },
      },
      {
        name: 'SessionControl',
        value: { ...ids, kind: 'end', sport: 'walking', ts: start + 1_800_500, receivedAt: 7 },
      },
    ]);
    expect(p.activityId).toBe(activityIdFor('u1', UPLOAD_DEVICE_ID, p.sessionId));
    const long = { ...body, duration_s: UPLOAD_LIMITS.maxSpanMs / 1000 + 1 };
    expect(codeOf(() => planUpload('u', 'k', long, 0))).toBe('upload_span_too_long');
    expect(
      codeOf(() => planUpload('u', 'k', { ...long, duration_s: UPLOAD_LIMITS.maxSpanMs / 1000 }, 0)),
    ).toBe('accepted');
  });
});
