import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ApiError } from './errors.js';

/**
 * `Idempotency-Key` for creating writes: the first request with a key claims it in the transaction that
 * creates the resource, so the resource and the key commit together; a retry with the same key and body
 * gets the same resource back instead of a second one. A retry waits for a first request still in flight
 * (the unique index makes the second insert wait for the first transaction). Keys expire after 24 h.
 */
export async function claimIdempotencyKey(
  c: pg.PoolClient,
  scope: string,
  key: string,
  body: unknown,
): Promise<string | null> {
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const claimed = await c.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3)
     ON CONFLICT (scope, key) DO NOTHING RETURNING 1`,
    [scope, key, hash],
  );
  if (claimed.rowCount === 1) return null;
  const r = await c.query<{ request_hash: string; response_body: { id?: string } | null }>(
    'SELECT request_hash, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2',
    [scope, key],
  );
  const row = r.rows[0];
  if (!row || row.request_hash !== hash)
    throw new ApiError('conflict', 'this Idempotency-Key was used with another request body');
  if (!row.response_body?.id)
    throw new ApiError('conflict', 'the first request with this Idempotency-Key failed');
  return row.response_body.id;
}

/** Stores what the first request with the key created (its id), in the same transaction. */
export async function recordIdempotentResult(
  c: pg.PoolClient,
  scope: string,
  key: string,
  status: number,
  id: string,
): Promise<void> {
  await c.query(
    'UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE scope = $1 AND key = $2',
    [scope, key, status, JSON.stringify({ id })],
  );
}
