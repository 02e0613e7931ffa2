// Generators and builders for the device-payload tests (schemas/payload.test.ts,
// schemas/telemetry-record.test.ts): valid telemetry of every shape, the terse JSON devices send, and
// mutations that break a field one way or another.
import fc from 'fast-check';
import { DEFAULT_LIMITS, type PayloadContext, type PayloadLimits } from '../../schemas/payload.js';
import { SAMPLE_FIELDS } from '../../schemas/sample.js';
import type { DeviceTelemetry, Sample, StrengthSet } from '../../schemas/types.gen.js';
import { SPORTS } from '../../schemas/vocabulary.js';

export const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
export const ctx = (limits: PayloadLimits = DEFAULT_LIMITS): PayloadContext => ({
  deviceId: 'dev-1',
  userId: 'user-1',
  nowMs: NOW,
  limits,
});
export const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

// ---- generators ------------------------------------------------------------------------------------

export const tsArb = fc.integer({
  min: NOW - DEFAULT_LIMITS.maxAgeMs,
  max: NOW + DEFAULT_LIMITS.maxFutureMs,
});
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

export const sessionIdArb = fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/);

export const telemetryArb: fc.Arbitrary<DeviceTelemetry> = fc
  .record({
    sessionId: sessionIdArb,
    sport: fc.constantFrom(...SPORTS),
    samples: fc.array(sampleArb, { maxLength: 20 }),
    sets: fc.array(setArb, { maxLength: 3 }),
  })
  .filter((t) => t.samples.length + t.sets.length > 0);

/** The JSON a terse device sends: null fields and `lap: false` left out. */
export function terse(t: DeviceTelemetry): Record<string, unknown> {
  const strip = (o: object) =>
    Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== null && !(k === 'lap' && v === false)));
  return { ...t, samples: t.samples.map(strip), sets: t.sets.map(strip) };
}

// Values that break a field in one way or another.
export const junkArb = fc.oneof(
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
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
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

export function okSampleFull(seq: number): Sample {
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
export function zigzag(n: number): Buffer {
  const out: number[] = [];
  let z = n * 2;
  while (z > 127) {
    out.push((z & 127) | 128);
    z >>>= 7;
  }
  out.push(z);
  return Buffer.from(out);
}
