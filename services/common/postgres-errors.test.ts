import pg from 'pg';
import { expect, test } from 'vitest';
import { isPgUnavailable } from './postgres-errors.js';

test('connection trouble is "unavailable"; a bad query is not', async () => {
  // A closed port on this machine: nothing listens on port 1.
  const pool = new pg.Pool({
    connectionString: 'postgres://x:y@127.0.0.1:1/none',
    connectionTimeoutMillis: 2000,
  });
  const refused = await pool.query('SELECT 1').catch((e: unknown) => e);
  await pool.end();
  expect(isPgUnavailable(refused)).toBe(true);
  for (const code of ['08006', '57P01', '57P03', '53300'])
    expect(isPgUnavailable(Object.assign(new Error('x'), { code }))).toBe(true);
  expect(isPgUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  expect(
    isPgUnavailable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })),
  ).toBe(true);
  for (const code of ['23505', '42P01', '22P02'])
    expect(isPgUnavailable(Object.assign(new Error('x'), { code }))).toBe(false);
  expect(isPgUnavailable(null)).toBe(false);
});
