import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ctx,
  json,
  junkArb,
  mutationArb,
  NOW,
  sessionIdArb,
  telemetryArb,
  terse,
  tsArb,
} from '../test/support/payload-arbitraries.js';
import { encodeAvro } from './avro.js';
import { DEFAULT_LIMITS, type PayloadLimits, parseDeviceSession, parseDeviceTelemetry } from './payload.js';
import type { DeviceTelemetry } from './types.gen.js';
import { DEVICE_CONTROL_KINDS, SPORTS } from './vocabulary.js';

const telemetrySchema = JSON.parse(
  readFileSync(new URL('./device-telemetry.schema.json', import.meta.url), 'utf8'),
);
const sessionSchema = JSON.parse(
  readFileSync(new URL('./device-session.schema.json', import.meta.url), 'utf8'),
);
const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
const ajvTelemetry = ajv.compile(telemetrySchema);
const ajvSession = ajv.compile(sessionSchema);

describe('parseDeviceTelemetry', () => {
  it('accepts every valid payload, JSON or terse JSON or Avro, into the same batch', () => {
    fc.assert(
      fc.property(telemetryArb, (t) => {
        const full = parseDeviceTelemetry('json', json(t), ctx());
        const short = parseDeviceTelemetry('json', json(terse(t)), ctx());
        const avro = parseDeviceTelemetry('avro', encodeAvro('DeviceTelemetry', t), ctx());
        const expected = {
          ok: true,
          batch: {
            deviceId: 'dev-1',
            userId: 'user-1',
            sessionId: t.sessionId,
            sport: t.sport,
            samples: t.samples,
            sets: t.sets,
            source: 'mqtt',
            receivedAt: NOW,
            // a device never sends a manual entry (only the API's uploads do)
            manual: null,
          },
        };
        expect(full).toEqual(expected);
        expect(short).toEqual(expected);
        // toEqual ignores prototypes: avsc's record classes compare equal to plain objects
        expect(avro).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with the JSON Schema (ajv) on good and broken payloads', () => {
    // Time windows are relative to the server clock, which a static JSON Schema cannot state: open
    // them wide here; they are tested by example below.
    const wide: PayloadLimits = { ...DEFAULT_LIMITS, maxAgeMs: 2 ** 52, maxFutureMs: 2 ** 52 };
    let good = 0;
    let bad = 0;
    fc.assert(
      fc.property(
        telemetryArb,
        fc.array(mutationArb, { maxLength: 3 }),
        fc.boolean(),
        (t, mutations, useTerse) => {
          const o = structuredClone(useTerse ? terse(t) : t) as Record<string, unknown>;
          for (const m of mutations) m(o);
          const sets = Array.isArray(o.sets) ? (o.sets as Record<string, unknown>[]) : [];
          // endTs >= startTs is the one cross-field rule the JSON Schema cannot state
          fc.pre(
            !sets.some(
              (s) => s && typeof s.endTs === 'number' && typeof s.startTs === 'number' && s.endTs < s.startTs,
            ),
          );
          const text = JSON.stringify(o);
          const schemaOk = ajvTelemetry(JSON.parse(text));
          const r = parseDeviceTelemetry('json', Buffer.from(text), ctx(wide));
          if (r.ok !== schemaOk) {
            throw new Error(
              `disagree on ${text}: ajv ${schemaOk} ${JSON.stringify(ajvTelemetry.errors)} / fast ${JSON.stringify(r)}`,
            );
          }
          if (schemaOk) good++;
          else bad++;
        },
      ),
      { numRuns: 3000 },
    );
    // the corpus must exercise both sides
    expect(good).toBeGreaterThan(200);
    expect(bad).toBeGreaterThan(1000);
  });

  it('never throws on arbitrary bytes, either format', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('json', 'avro') as fc.Arbitrary<'json' | 'avro'>,
        (bytes, f) => {
          const r = parseDeviceTelemetry(f, Buffer.from(bytes), ctx());
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses every truncation of a valid Avro payload as malformed_avro', () => {
    fc.assert(
      fc.property(telemetryArb, (t) => {
        const buf = encodeAvro('DeviceTelemetry', t);
        for (let n = 0; n < buf.length; n += Math.max(1, Math.floor(buf.length / 50))) {
          const r = parseDeviceTelemetry('avro', buf.subarray(0, n), ctx());
          expect(r).toMatchObject({ ok: false, reason: 'malformed_avro' });
        }
        const trailing = parseDeviceTelemetry('avro', Buffer.concat([buf, Buffer.from([0])]), ctx());
        expect(trailing).toMatchObject({ ok: false, reason: 'malformed_avro' });
      }),
      { numRuns: 100 },
    );
  });
});

// ---- examples, one per reason ---------------------------------------------------------------------

const okSample = { ts: NOW - 1000, seq: 1, lat: 48.85, lon: 2.35, hr: 140 };
const base = { sessionId: 'run-1', sport: 'running', samples: [okSample] };
const withSample = (extra: Record<string, unknown>) => ({ ...base, samples: [{ ...okSample, ...extra }] });

describe('refusal reasons', () => {
  const cases: [string, Buffer, string, PayloadLimits?][] = [
    ['too large', json(base), 'payload_too_large', { ...DEFAULT_LIMITS, maxPayloadBytes: 10 }],
    ['not JSON', Buffer.from('{"sessionId":'), 'malformed_json'],
    ['JSON array', json([base]), 'schema_violation'],
    ['missing sport', json({ sessionId: 'a', samples: [okSample] }), 'schema_violation'],
    ['unknown sport', json({ ...base, sport: 'curling' }), 'schema_violation'],
    ['bad session id', json({ ...base, sessionId: 'a b' }), 'schema_violation'],
    ['deviceId in payload', json({ ...base, deviceId: 'other' }), 'schema_violation'],
    ['typo in a field', json(withSample({ heartRate: 140 })), 'schema_violation'],
    ['hr as string', json(withSample({ hr: '140' })), 'schema_violation'],
    ['hr fractional', json(withSample({ hr: 140.5 })), 'schema_violation'],
    ['empty batch', json({ ...base, samples: [] }), 'schema_violation'],
    [
      'too many samples',
      json({ ...base, samples: Array.from({ length: 601 }, (_, i) => ({ ...okSample, seq: i })) }),
      'too_many_samples',
    ],
    ['lat out of range', json(withSample({ lat: 91 })), 'invalid_coordinates'],
    ['lat without lon', json(withSample({ lon: null })), 'invalid_coordinates'],
    ['null island', json(withSample({ lat: 0, lon: 0 })), 'invalid_coordinates'],
    ['hr too low', json(withSample({ hr: 19 })), 'hr_out_of_range'],
    ['hr too high', json(withSample({ hr: 251 })), 'hr_out_of_range'],
    ['negative speed', json(withSample({ speed: -1 })), 'invalid_sample'],
    ['power absurd', json(withSample({ power: 5000 })), 'invalid_sample'],
    ['future', json(withSample({ ts: NOW + DEFAULT_LIMITS.maxFutureMs + 1 })), 'timestamp_in_future'],
    ['too old', json(withSample({ ts: NOW - DEFAULT_LIMITS.maxAgeMs - 1 })), 'timestamp_too_old'],
    [
      'set ends before it starts',
      json({
        ...base,
        samples: [],
        sets: [{ exercise: 'squat', reps: 5, startTs: NOW - 10, endTs: NOW - 20 }],
      }),
      'invalid_sample',
    ],
  ];
  it.each(cases)('%s', (_name, payload, reason, limits) => {
    const r = parseDeviceTelemetry('json', payload, ctx(limits));
    expect(r).toMatchObject({ ok: false, reason });
    if (!r.ok) expect(r.message.length).toBeGreaterThan(0);
  });

  it('reports the first bad sample, whole message refused', () => {
    const r = parseDeviceTelemetry(
      'json',
      json({ ...base, samples: [okSample, { ...okSample, hr: 300 }, { ...okSample, lat: 100 }] }),
      ctx(),
    );
    expect(r).toEqual({
      ok: false,
      reason: 'hr_out_of_range',
      message: 'samples[1].hr = 300 is outside [20, 250]',
    });
  });

  it('refuses NaN that only Avro can carry', () => {
    const t: DeviceTelemetry = {
      sessionId: 's',
      sport: 'running',
      samples: [
        {
          ...okSample,
          seq: 1,
          lat: Number.NaN,
          lon: 2,
          alt: null,
          acc: null,
          speed: null,
          dist: null,
          cadence: null,
          power: null,
          lap: false,
        },
      ],
      sets: [],
    };
    expect(parseDeviceTelemetry('avro', encodeAvro('DeviceTelemetry', t), ctx())).toMatchObject({
      ok: false,
      reason: 'invalid_coordinates',
    });
  });

  it('refuses an Avro array that claims more items than bytes, without looping over them', () => {
    // sessionId "s", sport "r", then a samples block count of 2^30 and nothing else
    const bomb = Buffer.from([0x02, 0x73, 0x02, 0x72, 0x80, 0x80, 0x80, 0x80, 0x08]);
    const t0 = performance.now();
    expect(parseDeviceTelemetry('avro', bomb, ctx())).toMatchObject({ ok: false, reason: 'malformed_avro' });
    expect(performance.now() - t0).toBeLessThan(50);
  });
});

describe('parseDeviceSession', () => {
  const sessionArb = fc.record({
    sessionId: sessionIdArb,
    kind: fc.constantFrom(...DEVICE_CONTROL_KINDS),
    sport: fc.constantFrom(...SPORTS),
    ts: tsArb,
  });

  it('accepts every valid control in JSON and Avro', () => {
    fc.assert(
      fc.property(sessionArb, (s) => {
        const expected = {
          ok: true,
          control: { ...s, deviceId: 'dev-1', userId: 'user-1', receivedAt: NOW },
        };
        expect(parseDeviceSession('json', json(s), ctx())).toEqual(expected);
        expect(parseDeviceSession('avro', encodeAvro('DeviceSession', s), ctx())).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with the JSON Schema (ajv)', () => {
    const wide: PayloadLimits = { ...DEFAULT_LIMITS, maxAgeMs: 2 ** 52, maxFutureMs: 2 ** 52 };
    fc.assert(
      fc.property(
        sessionArb,
        fc.constantFrom('sessionId', 'kind', 'sport', 'ts', 'extra'),
        junkArb,
        fc.boolean(),
        (s, k, v, del) => {
          const o: Record<string, unknown> = { ...s };
          if (del) delete o[k];
          else o[k] = v;
          const text = JSON.stringify(o);
          expect(parseDeviceSession('json', Buffer.from(text), ctx(wide)).ok).toBe(
            ajvSession(JSON.parse(text)),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses a control from the future', () => {
    expect(
      parseDeviceSession(
        'json',
        json({ sessionId: 's', kind: 'start', sport: 'running', ts: NOW + 3_600_000 }),
        ctx(),
      ),
    ).toMatchObject({ ok: false, reason: 'timestamp_in_future' });
  });
});
