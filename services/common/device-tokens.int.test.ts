import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REVOCATION_CHANNEL } from '../../schemas/device-tokens.js';
import { createTestUser, deleteTestUsers } from '../../test/support/users.js';
import { issueDeviceToken, revokeDeviceToken, verifyDevice } from './device-tokens.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('device tokens against PostgreSQL and Redis', () => {
  let pool: pg.Pool;
  let redis: Redis;
  let userId: string;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    redis = new Redis(REDIS_URL);
    userId = await createTestUser(pool, { email: `devtok-${randomUUID()}@test.invalid`, name: 'token test' });
  });

  afterAll(async () => {
    await deleteTestUsers(pool, [userId]);
    await pool.end();
    redis.disconnect();
  });

  test('issue, verify (cached), refuse a wrong token, an unknown device, and a revoked token', async () => {
    const deviceId = `t-${randomUUID()}`;
    const token = await issueDeviceToken(pool, userId, deviceId, 'watch');
    const deps = { pg: pool, redis, ttlMs: 60_000 };
    expect(await verifyDevice(deps, deviceId, token)).toEqual({ ok: true, userId });
    // second check comes from the cache
    expect(await redis.exists(`fitstream:devtok:${deviceId}`)).toBe(1);
    expect(await verifyDevice(deps, deviceId, Buffer.from(token))).toEqual({ ok: true, userId });
    expect(await verifyDevice(deps, deviceId, `${token}x`)).toEqual({ ok: false, reason: 'bad_token' });
    expect(await verifyDevice(deps, `nope-${randomUUID()}`, token)).toEqual({
      ok: false,
      reason: 'unknown_device',
    });

    const sub = new Redis(REDIS_URL);
    const heard = new Promise<string>((resolve) => sub.on('message', (_c, m) => resolve(m)));
    await sub.subscribe(REVOCATION_CHANNEL);
    expect(await revokeDeviceToken(pool, redis, deviceId)).toBe(true);
    expect(await heard).toBe(deviceId);
    sub.disconnect();
    // revocation drops the cache entry: refused at once, not after the TTL
    expect(await verifyDevice(deps, deviceId, token)).toEqual({ ok: false, reason: 'revoked' });
    expect(await revokeDeviceToken(pool, redis, `nope-${randomUUID()}`)).toBe(false);
  });

  test('a revocation that skipped the cache is seen once the TTL expires', async () => {
    const deviceId = `t-${randomUUID()}`;
    const token = await issueDeviceToken(pool, userId, deviceId, 'phone');
    const deps = { pg: pool, redis, ttlMs: 300 };
    expect((await verifyDevice(deps, deviceId, token)).ok).toBe(true);
    await revokeDeviceToken(pool, null, deviceId);
    expect((await verifyDevice(deps, deviceId, token)).ok).toBe(true); // stale but bounded
    await new Promise((r) => setTimeout(r, 400));
    expect(await verifyDevice(deps, deviceId, token)).toEqual({ ok: false, reason: 'revoked' });
  });
});
