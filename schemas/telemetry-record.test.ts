import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ctx,
  json,
  mutationArb,
  NOW,
  okSampleFull,
  telemetryArb,
  terse,
  zigzag,
} from '../test/support/payload-arbitraries.js';
import { avroTypes, encodeAvro } from './avro.js';
import { checkCanonicalAvroTelemetry } from './avro-telemetry-check.js';
import { DEFAULT_LIMITS, type PayloadLimits, parseDeviceTelemetry } from './payload.js';
import { telemetryRecord } from './telemetry-record.js';
import { encodeConfluent } from './wire.js';

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
  }, 30_000);

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
  }, 30_000);

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
