import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { avroTypes } from './avro.js';
import { avroWellFormed } from './avro-bounds.js';

const batchArb = fc.record({
  sessionId: fc.string(),
  sport: fc.constantFrom('running' as const, 'strength' as const),
  samples: fc.array(
    fc.record({
      ts: fc.nat(),
      seq: fc.option(fc.nat(), { nil: null }),
      lat: fc.option(fc.double(), { nil: null }),
      lon: fc.option(fc.double(), { nil: null }),
      alt: fc.option(fc.float(), { nil: null }),
      acc: fc.constant(null),
      speed: fc.constant(null),
      dist: fc.option(fc.double(), { nil: null }),
      hr: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: null }),
      cadence: fc.constant(null),
      power: fc.constant(null),
      lap: fc.boolean(),
    }),
    { maxLength: 10 },
  ),
  sets: fc.array(
    fc.record({
      exercise: fc.string(),
      reps: fc.integer(),
      weightKg: fc.option(fc.double(), { nil: null }),
      startTs: fc.nat(),
      endTs: fc.option(fc.nat(), { nil: null }),
    }),
    { maxLength: 3 },
  ),
});

describe('avroWellFormed', () => {
  const type = avroTypes.DeviceTelemetry;

  it('accepts every encoded value and refuses every strict prefix and any trailing byte', () => {
    fc.assert(
      fc.property(batchArb, (v) => {
        const buf = type.toBuffer(v);
        expect(avroWellFormed(type, buf)).toBe(true);
        for (let n = 0; n < buf.length; n++) expect(avroWellFormed(type, buf.subarray(0, n))).toBe(false);
        expect(avroWellFormed(type, Buffer.concat([buf, Buffer.from([0])]))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('when it says well-formed, avsc decodes exactly the whole buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const buf = Buffer.from(bytes);
        if (!avroWellFormed(type, buf)) return;
        const { offset } = type.decode(buf, 0);
        expect(offset).toBe(buf.length);
      }),
      { numRuns: 5000 },
    );
  });
});
