import { createClient } from '@clickhouse/client';
import fc from 'fast-check';
import { afterAll, expect, test } from 'vitest';
import { str } from './clickhouse-sql.js';

// The literal helper against the real server (18.16): any string comes back unchanged.
const ch = createClient({ url: 'http://127.0.0.1:8123' });
afterAll(() => ch.close());

test('ClickHouse reads every str() literal back as the original string', async () => {
  const values = fc.sample(fc.string({ unit: 'grapheme', maxLength: 40 }), 200);
  values.push("'", '\\', "\\'", '\0', '\n\r\t', "'; SELECT 1; --", '💥');
  const query = `SELECT [${values.map(str).join(', ')}] AS xs`;
  const [row] = await (await ch.query({ query, format: 'JSONEachRow' })).json<{ xs: string[] }>();
  expect(row!.xs).toEqual(values);
});
