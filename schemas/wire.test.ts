import type avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { avroTypes } from './avro.js';
import { SchemaError } from './errors.js';
import type { DlqRecord } from './types.gen.js';
import { encodeConfluent, HEADER_BYTES, schemaIdOf } from './wire.js';

// The registry client frames as Buffer.concat([0], int32BE(id), type.toBuffer(value)); the
// byte-identity against the real client is in registry.int.test.ts.
function reference(id: number, type: avro.Type, value: unknown): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
}

const dlqArb: fc.Arbitrary<DlqRecord> = fc.record({
  original: fc.uint8Array({ maxLength: 200_000 }).map((u) => Buffer.from(u)),
  source: fc.string(),
  reasonCode: fc.constantFrom('malformed_json' as const, 'decode_failed' as const),
  message: fc.string(),
  deviceId: fc.option(fc.string(), { nil: null }),
  at: fc.nat(),
});

describe('encodeConfluent', () => {
  it('frames magic byte, schema id and the Avro body, for small and large values', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), dlqArb, (id, rec) => {
        const buf = encodeConfluent(id, avroTypes.DlqRecord, rec);
        expect(buf.equals(reference(id, avroTypes.DlqRecord, rec))).toBe(true);
        expect(schemaIdOf(buf)).toBe(id);
        expect(avroTypes.DlqRecord.fromBuffer(buf.subarray(HEADER_BYTES))).toEqual(rec);
      }),
      { numRuns: 30 },
    );
  });

  it('returns a buffer of its own (the scratch buffer is reused)', () => {
    const rec = (m: string): DlqRecord => ({
      original: Buffer.from('x'),
      source: 's',
      reasonCode: 'malformed_json',
      message: m,
      deviceId: null,
      at: 1,
    });
    const a = encodeConfluent(7, avroTypes.DlqRecord, rec('first'));
    const copy = Buffer.from(a);
    encodeConfluent(7, avroTypes.DlqRecord, rec('second'));
    expect(a.equals(copy)).toBe(true);
  });

  it('throws a typed error for a value that does not match the schema', () => {
    const bad = { original: 'not bytes' } as unknown as DlqRecord;
    expect(() => encodeConfluent(1, avroTypes.DlqRecord, bad)).toThrow(SchemaError);
  });
});

describe('schemaIdOf', () => {
  it('refuses values without a Confluent header', () => {
    expect(() => schemaIdOf(Buffer.from([0, 0, 1]))).toThrow(expect.objectContaining({ code: 'truncated' }));
    expect(() => schemaIdOf(Buffer.from('{"a":1}'))).toThrow(
      expect.objectContaining({ code: 'bad_magic_byte' }),
    );
  });
});
