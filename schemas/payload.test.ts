import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { avroTypes, encodeAvro } from './avro.js';
import { checkCanonicalAvroTelemetry } from './avro-telemetry-check.js';
import {
  DEFAULT_LIMITS,
  type PayloadContext,
  type PayloadLimits,
  parseDeviceSession,
  parseDeviceTelemetry,
} from './payload.js';
import { SAMPLE_FIELDS } from './sample.js';
import { telemetryRecord } from './telemetry-record.js';
import type { DeviceTelemetry, Sample, StrengthSet } from './types.gen.js';
import { SESSION_CONTROL_KINDS, SPORTS } from './vocabulary.js';
import { encodeConfluent } from './wire.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const ctx = (limits: PayloadLimits = DEFAULT_LIMITS): PayloadContext => ({
  deviceId: 'dev-1',
  userId: 'user-1',
  nowMs: NOW,
  limits,
});
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

const telemetrySchema = JSON.parse(
  readFileSync(new URL('./device-telemetry.schema.json', import.meta.url), 'utf8'),
);
const sessionSchema = JSON.parse(
  readFileSync(new URL('./device-session.schema.json', import.meta.url), 'utf8'),
);
const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
const ajvTelemetry = ajv.compile(telemetrySchema);
const ajvSession = ajv.compile(sessionSchema);

// ---- generators ------------------------------------------------------------------------------------

const tsArb = fc.integer({ min: NOW - DEFAULT_LIMITS.maxAgeMs, max: NOW + DEFAULT_LIMITS.maxFutureMs });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
/** A float32-exact value in [lo, hi], so that JSON and Avro `float` carry the same number. */
const f32 = (lo: number, hi: number) =>
  fc
    .float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true, noDefaultInfinity: true })
    .map((x) => x + 0);

const fixArb = fc
  .tuple(fc.double({ min: -90, max: 90, noNaN: true }), fc.double({ min: -180, max: 180, noNaN: true }))
  .filter(([lat, lon]) => !(lat === 0 && lon === 0))
  .map(([lat, lon]) => [lat + 0, lon + 0] as const);

const sampleArb: fc.Arbitrary<Sample> = fc
  .record({
    ts: tsArb,
    seq: opt(fc.nat()),
    fix: opt(fixArb),
    alt: opt(f32(-1000, 10_000)),
    acc: opt(f32(0, 10_000)),
    speed: opt(f32(0, 150)),
    dist: opt(fc.double({ min: 0, max: 100_000_000, noNaN: true }).map((x) => x + 0)),
    hr: opt(fc.integer({ min: 20, max: 250 })),
    cadence: opt(fc.integer({ min: 0, max: 300 })),
    power: opt(fc.integer({ min: 0, max: 3000 })),
    lap: fc.boolean(),
  })
  .map(({ fix, ...s }) => ({ ...s, lat: fix ? fix[0] : null, lon: fix ? fix[1] : null }));

const setArb: fc.Arbitrary<StrengthSet> = fc
  .record({
    exercise: fc.string({ minLength: 1, maxLength: 64 }),
    reps: fc.integer({ min: 0, max: 10_000 }),
    weightKg: opt(fc.double({ min: 0, max: 2000, noNaN: true }).map((x) => x + 0)),
    startTs: tsArb,
    dur: opt(fc.integer({ min: 0, max: 600_000 })),
  })
  .map(({ dur, ...s }) => ({ ...s, endTs: dur === null ? null : Math.min(s.startTs + dur, NOW) }))
  .map((s) => ({ ...s, endTs: s.endTs !== null && s.endTs < s.startTs ? null : s.endTs }));

const sessionIdArb = fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/);

const telemetryArb: fc.Arbitrary<DeviceTelemetry> = fc
  .record({
    sessionId: sessionIdArb,
    sport: fc.constantFrom(...SPORTS),
    samples: fc.array(sampleArb, { maxLength: 20 }),
    sets: fc.array(setArb, { maxLength: 3 }),
  })
  .filter((t) => t.samples.length + t.sets.length > 0);

/** The JSON a terse device sends: null fields and `lap: false` left out. */
function terse(t: DeviceTelemetry): Record<string, unknown> {
  const strip = (o: object) =>
    Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== null && !(k === 'lap' && v === false)));
  return { ...t, samples: t.samples.map(strip), sets: t.sets.map(strip) };
}

// Values that break a field in one way or another.
const junkArb = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    '',
    'x',
    '140',
    0,
    -1,
    0.5,
    -0.5,
    1e300,
    -1e300,
    2 ** 53,
    251,
    19,
    91,
    -91,
    181,
  ),
  fc.constantFrom([], {}, [1], { a: 1 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 3 }),
);
const sampleKeys: string[] = [...SAMPLE_FIELDS, 'heartRate'];
const setKeys = ['exercise', 'reps', 'weightKg', 'startTs', 'endTs', 'sets'];
const topKeys = ['sessionId', 'sport', 'samples', 'sets', 'deviceId'];

type Mutation = (o: Record<string, unknown>) => void;
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constantFrom(...topKeys), v: junkArb }).map(
    ({ k, v }): Mutation =>
      (o) => {
        o[k] = v;
      },
  ),
  fc.constantFrom(...topKeys).map(
    (k): Mutation =>
      (o) => {
        delete o[k];
      },
  ),
  fc.record({ i: fc.nat(), k: fc.constantFrom(...sampleKeys), v: junkArb, del: fc.boolean() }).map(
    ({ i, k, v, del }): Mutation =>
      (o) => {
        const list = Array.isArray(o.samples) ? (o.samples as Record<string, unknown>[]) : [];
        const s = list[i % Math.max(1, list.length)];
        if (!s || typeof s !== 'object') return;
        if (del) delete s[k];
        else s[k] = v;
      },
  ),
  fc.record({ i: fc.nat(), k: fc.constantFrom(...setKeys), v: junkArb, del: fc.boolean() }).map(
    ({ i, k, v, del }): Mutation =>
      (o) => {
        const list = Array.isArray(o.sets) ? (o.sets as Record<string, unknown>[]) : [];
        const s = list[i % Math.max(1, list.length)];
        if (!s || typeof s !== 'object') return;
        if (del) delete s[k];
        else s[k] = v;
      },
  ),
);

// ---- properties ------------------------------------------------------------------------------------

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

describe('telemetryRecord', () => {
  const SCHEMA_ID = 4242;
  /** What the general path makes of a payload: parseDeviceTelemetry, then avsc's encoding. */
  const reference = (format: 'json' | 'avro', payload: Buffer, c = ctx()) => {
    const r = parseDeviceTelemetry(format, payload, c);
    if (!r.ok) return r;
    return {
      ok: true,
      sessionId: r.batch.sessionId,
      samples: r.batch.samples.length,
      value: encodeConfluent(SCHEMA_ID, avroTypes.TelemetryBatch, r.batch),
    };
  };

  it('builds the bytes avsc builds, from JSON, terse JSON and Avro', () => {
    fc.assert(
      fc.property(telemetryArb, (t) => {
        for (const [format, payload] of [
          ['json', json(t)],
          ['json', json(terse(t))],
          ['avro', encodeAvro('DeviceTelemetry', t)],
        ] as const) {
          const expected = reference(format, payload);
          expect(expected.ok).toBe(true);
          expect(telemetryRecord(format, payload, ctx(), SCHEMA_ID)).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('takes the one-pass path for canonical Avro without sets', () => {
    fc.assert(
      fc.property(telemetryArb, (t) => {
        fc.pre(t.samples.length > 0);
        const payload = encodeAvro('DeviceTelemetry', { ...t, sets: [] });
        const expected = reference('avro', payload);
        expect(checkCanonicalAvroTelemetry(payload, ctx())).toEqual({
          sessionId: t.sessionId,
          samples: t.samples.length,
        });
        // with the check passed, the record is the payload copied between header and trailer
        expect(telemetryRecord('avro', payload, ctx(), SCHEMA_ID)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the general path on damaged Avro: same refusal, or same bytes', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        telemetryArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        (t, edits) => {
          const payload = Buffer.from(encodeAvro('DeviceTelemetry', { ...t, sets: [] }));
          for (const [at, byte] of edits) payload[at % payload.length] = byte;
          const expected = reference('avro', payload);
          const got = telemetryRecord('avro', payload, ctx(), SCHEMA_ID);
          expect(got).toEqual(expected);
          // the one-pass path never accepts what the general path refuses
          const fast = checkCanonicalAvroTelemetry(payload, ctx());
          if (fast !== null) {
            expect(expected.ok).toBe(true);
            if (expected.ok)
              expect(fast).toEqual({ sessionId: expected.sessionId, samples: expected.samples });
          }
          if (expected.ok) accepted++;
          else refused++;
        },
      ),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  }, 30_000);

  it('encodes JSON written any way as avsc does: key order, spaces, number forms', () => {
    let accepted = 0;
    fc.assert(
      fc.property(telemetryArb, fc.infiniteStream(fc.nat(1_000_000)), (t, rnd) => {
        const r = () => rnd.next().value as number;
        const ws = () => [' ', '', '\n', '\t ', '\r\n'][r() % 5]!;
        const num = (v: number) =>
          [
            String(v),
            v.toExponential(),
            v.toPrecision(17),
            v.toPrecision(1 + (r() % 21)),
            v.toFixed(r() % 10),
          ][r() % 5]!;
        const write = (v: unknown): string => {
          if (typeof v === 'number') return num(v);
          if (Array.isArray(v)) return `[${ws()}${v.map((x) => write(x)).join(`${ws()},${ws()}`)}${ws()}]`;
          if (v !== null && typeof v === 'object') {
            const entries = Object.entries(v).filter(([, x]) => x !== undefined);
            for (let i = entries.length - 1; i > 0; i--) {
              const j = r() % (i + 1);
              [entries[i], entries[j]] = [entries[j]!, entries[i]!];
            }
            return `{${ws()}${entries.map(([k, x]) => `${JSON.stringify(k)}${ws()}:${ws()}${write(x)}`).join(`,${ws()}`)}${ws()}}`;
          }
          return JSON.stringify(v);
        };
        // half without strength sets, which only the general path takes
        const base = r() % 2 ? { ...t, sets: [] } : t;
        const text = `${ws()}${write(r() % 2 ? terse(base) : base)}${ws()}`;
        const payload = Buffer.from(text);
        const expected = reference('json', payload);
        expect(telemetryRecord('json', payload, ctx(), SCHEMA_ID)).toEqual(expected);
        if (expected.ok) accepted++;
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(250);
  }, 30_000);

  it('refuses broken JSON as parseDeviceTelemetry does, and encodes what it accepts as avsc does', () => {
    const wide: PayloadLimits = { ...DEFAULT_LIMITS, maxAgeMs: 2 ** 52, maxFutureMs: 2 ** 52 };
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        telemetryArb,
        fc.array(mutationArb, { maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 127 })), { maxLength: 2 }),
        fc.boolean(),
        fc.boolean(),
        (t, mutations, edits, useTerse, wideLimits) => {
          const o = structuredClone(useTerse ? terse(t) : t) as Record<string, unknown>;
          for (const m of mutations) m(o);
          const payload = Buffer.from(JSON.stringify(o) ?? 'null');
          for (const [at, byte] of edits) payload[at % payload.length] = byte;
          const c = ctx(wideLimits ? wide : DEFAULT_LIMITS);
          const expected = reference('json', payload, c);
          expect(telemetryRecord('json', payload, c, SCHEMA_ID)).toEqual(expected);
          if (expected.ok) accepted++;
          else refused++;
        },
      ),
      { numRuns: 4000 },
    );
    expect(accepted).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(1000);
  }, 30_000);

  it('encodes JSON numbers of every form as avsc does', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.integer({ min: 0, max: 2 ** 53 }),
          fc.double({ min: -90, max: 90, noNaN: true }),
        ),
        fc.nat(20),
        (v, p) => {
          for (const text of [String(v), v.toExponential(), v.toPrecision(1 + p), v.toFixed(p)]) {
            const payload = Buffer.from(
              `{"sessionId":"n","sport":"running","samples":[{"ts":${NOW},"dist":${text.startsWith('-') ? text.slice(1) : text}}]}`,
            );
            const expected = reference('json', payload);
            expect(telemetryRecord('json', payload, ctx(), SCHEMA_ID)).toEqual(expected);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('leaves non-canonical Avro to the general path, which decodes it to the same record', () => {
    const t = {
      sessionId: 's-1',
      sport: 'running' as const,
      samples: [okSampleFull(1), okSampleFull(2)],
      sets: [],
    };
    const canonical = encodeAvro('DeviceTelemetry', t);
    // the samples array as one block of count -2 with its byte size (legal Avro, written by some encoders)
    const head = encodeAvro('DeviceTelemetry', { ...t, samples: [] }).subarray(0, 1 + 3 + 1 + 7);
    const items = canonical.subarray(head.length + 1, canonical.length - 2);
    const sized = Buffer.concat([head, Buffer.from([3]), zigzag(items.length), items, Buffer.from([0, 0])]);
    expect(checkCanonicalAvroTelemetry(sized, ctx())).toBeNull();
    expect(telemetryRecord('avro', sized, ctx(), SCHEMA_ID)).toEqual(reference('avro', canonical));
  });
});

function okSampleFull(seq: number): Sample {
  return {
    ts: NOW - 10_000 + seq * 1000,
    seq,
    lat: 48.85 + seq * 1e-5,
    lon: 2.35,
    alt: 35.5,
    acc: 4.5,
    speed: 3.25,
    dist: seq * 3.25,
    hr: 140,
    cadence: null,
    power: 200,
    lap: false,
  };
}

/** Avro long of n >= 0 (< 64). */
function zigzag(n: number): Buffer {
  const out: number[] = [];
  let z = n * 2;
  while (z > 127) {
    out.push((z & 127) | 128);
    z >>>= 7;
  }
  out.push(z);
  return Buffer.from(out);
}

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
    kind: fc.constantFrom(...SESSION_CONTROL_KINDS),
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
