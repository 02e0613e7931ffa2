import { timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import {
  type DeviceTokenCacheEntry,
  generateDeviceToken,
  hashDeviceToken,
  REVOCATION_CHANNEL,
  tokenCacheKey,
} from '../../schemas/device-tokens.js';

/**
 * Device tokens (the MQTT password of a device, username = device id) in PostgreSQL and Redis: the API
 * issues and revokes them, the gateway checks a CONNECT. Token format, hash, cache key and revocation
 * channel are the contract in schemas/device-tokens.ts.
 *
 * The gateway checks a CONNECT against the Redis cache entry (short TTL) and falls back to PostgreSQL.
 * Revocation sets `devices.revoked_at`, deletes the cache entry and publishes the device id on the
 * revocation channel, so gateways also drop live connections at once; the TTL bounds the staleness if that
 * message is lost.
 */

export const DEFAULT_TOKEN_CACHE_TTL_MS = 5_000;

/**
 * Register a device for a user and return its token (the only time it exists in clear). Throws pg's unique
 * violation (code 23505) when the device id is taken.
 */
export async function issueDeviceToken(
  pgPool: pg.Pool,
  userId: string,
  deviceId: string,
  name: string,
): Promise<string> {
  const token = generateDeviceToken();
  await pgPool.query('INSERT INTO devices (id, user_id, name, token_hash) VALUES ($1, $2, $3, $4)', [
    deviceId,
    userId,
    name,
    hashDeviceToken(token),
  ]);
  return token;
}

/**
 * Revoke a device's token. Returns false when the device does not exist. Idempotent: revoking twice keeps
 * the first revocation time. Gateways refuse the token from the next CONNECT on and close live connections.
 */
export async function revokeDeviceToken(
  pgPool: pg.Pool,
  redis: Redis | null,
  deviceId: string,
): Promise<boolean> {
  const r = await pgPool.query(
    'UPDATE devices SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING id',
    [deviceId],
  );
  if ((r.rowCount ?? 0) === 0) return false;
  if (redis) {
    await redis.del(tokenCacheKey(deviceId));
    await redis.publish(REVOCATION_CHANNEL, deviceId);
  }
  return true;
}

export interface VerifyDeps {
  pg: pg.Pool;
  /** null: no cache, every check reads PostgreSQL */
  redis: Redis | null;
  ttlMs?: number;
}

export type VerifyResult =
  | { ok: true; userId: string }
  | { ok: false; reason: 'unknown_device' | 'bad_token' | 'revoked' };

async function loadDevice(deps: VerifyDeps, deviceId: string): Promise<DeviceTokenCacheEntry> {
  const key = tokenCacheKey(deviceId);
  if (deps.redis) {
    let cached: string | null = null;
    try {
      cached = await deps.redis.get(key);
    } catch {
      // Redis holds only what PostgreSQL can rebuild: a cache outage costs a query, not a refusal.
    }
    if (cached) return JSON.parse(cached) as DeviceTokenCacheEntry;
  }
  const r = await deps.pg.query<{ user_id: string; token_hash: string; revoked: boolean }>(
    'SELECT user_id, token_hash, revoked_at IS NOT NULL AS revoked FROM devices WHERE id = $1',
    [deviceId],
  );
  const row = r.rows[0];
  const entry: DeviceTokenCacheEntry = row
    ? { hash: row.token_hash, userId: row.user_id, revoked: row.revoked }
    : { hash: '', userId: '', revoked: true };
  if (deps.redis) {
    try {
      await deps.redis.set(key, JSON.stringify(entry), 'PX', deps.ttlMs ?? DEFAULT_TOKEN_CACHE_TTL_MS);
    } catch {
      // see above
    }
  }
  return entry;
}

/**
 * Check a device's credentials. Resolves to the owning user on success; rejects only when PostgreSQL does
 * not answer (the caller turns that into "server unavailable", not "bad password").
 */
export async function verifyDevice(
  deps: VerifyDeps,
  deviceId: string,
  token: string | Buffer,
): Promise<VerifyResult> {
  const d = await loadDevice(deps, deviceId);
  if (d.hash === '') return { ok: false, reason: 'unknown_device' };
  const given = Buffer.from(hashDeviceToken(token), 'utf8');
  const stored = Buffer.from(d.hash, 'utf8');
  if (given.length !== stored.length || !timingSafeEqual(given, stored))
    return { ok: false, reason: 'bad_token' };
  if (d.revoked) return { ok: false, reason: 'revoked' };
  return { ok: true, userId: d.userId };
}

/**
 * The owner of a device that is allowed to send (exists, not revoked), or null. Used in bridge mode, where
 * the external broker authenticated the device and the gateway only needs the user id for the records.
 */
export async function lookupDeviceOwner(deps: VerifyDeps, deviceId: string): Promise<string | null> {
  const d = await loadDevice(deps, deviceId);
  return d.hash === '' || d.revoked ? null : d.userId;
}
