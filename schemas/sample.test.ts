import { describe, expect, test } from 'vitest';
import { AVRO_SCHEMAS } from './avsc.gen.js';
import { emptySample, SAMPLE_FIELDS } from './sample.js';

const avroSample = AVRO_SCHEMAS.find((s) => s.name === 'Sample') as
  | { fields: readonly { name: string; default?: unknown }[] }
  | undefined;

describe('Sample fields', () => {
  test('SAMPLE_FIELDS is the Avro record, in order', () => {
    expect(avroSample).toBeDefined();
    expect([...SAMPLE_FIELDS]).toEqual(avroSample!.fields.map((f) => f.name));
  });

  test('the empty sample has every field, each optional one at its Avro default', () => {
    const s = emptySample(1_760_000_000_000, 7);
    expect(Object.keys(s)).toEqual([...SAMPLE_FIELDS]);
    expect(s.ts).toBe(1_760_000_000_000);
    expect(s.seq).toBe(7);
    for (const f of avroSample!.fields)
      if (f.name !== 'ts' && f.name !== 'seq') expect(s[f.name as keyof typeof s]).toBe(f.default);
    expect(emptySample(5).seq).toBeNull();
  });

  test('each call is a new object', () => {
    const a = emptySample(0);
    a.hr = 150;
    expect(emptySample(0).hr).toBeNull();
  });
});
