import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AVRO_SCHEMAS } from './avsc.gen.js';
import { generate } from './codegen.js';
import * as vocabulary from './vocabulary.js';

describe('codegen', () => {
  it('the committed generated files match schemas/*.avsc (run `npm run codegen`)', () => {
    for (const [name, content] of Object.entries(generate().files)) {
      expect(readFileSync(new URL(`./${name}`, import.meta.url), 'utf8'), name).toBe(content);
    }
  });

  it('every tsType names a value set in vocabulary.ts', () => {
    const lists: Record<string, readonly string[]> = {
      Sport: vocabulary.SPORTS,
      SessionControlKind: vocabulary.SESSION_CONTROL_KINDS,
      DlqReason: vocabulary.DLQ_REASONS,
    };
    for (const schema of AVRO_SCHEMAS) {
      for (const field of schema.fields) {
        const tsType = (field as { tsType?: string }).tsType;
        if (tsType) expect(lists[tsType], `${schema.name}.${field.name}`).toBeDefined();
      }
    }
  });

  it('ActivityCreated and ActivityUpdated carry the same figures', () => {
    const fields = (n: string) => AVRO_SCHEMAS.find((s) => s.name === n)?.fields.map((f) => f.name) ?? [];
    expect(fields('ActivityUpdated').filter((f) => f !== 'reason')).toEqual(fields('ActivityCreated'));
  });
});
