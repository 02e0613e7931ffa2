import { describe, expect, it } from 'vitest';
import { checkContentType } from './content-type.js';

describe('checkContentType', () => {
  it('accepts no content type (MQTT 3.1.1) and matching ones', () => {
    expect(checkContentType('json', undefined)).toBeUndefined();
    expect(checkContentType('json', 'application/json; charset=utf-8')).toBeUndefined();
    expect(checkContentType('avro', 'Avro/Binary')).toBeUndefined();
  });
  it('refuses a content type that contradicts the topic suffix', () => {
    expect(checkContentType('json', 'avro/binary')).toMatchObject({
      ok: false,
      reason: 'content_type_mismatch',
    });
    expect(checkContentType('avro', 'text/plain')).toMatchObject({
      ok: false,
      reason: 'content_type_mismatch',
    });
  });
});
