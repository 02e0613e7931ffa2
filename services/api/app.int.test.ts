import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { activityIdFor } from '../../pipelines/index.js';
import { hashDeviceToken } from '../../schemas/device-tokens.js';
import { testAuth } from '../../test/support/api-auth.js';
import { createWorkerTables } from '../../test/support/worker.js';
import { clickhouseEnv, parseEnv, postgresEnv, redisEnv } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { buildApp, MAX_PARAM_LENGTH } from './app.js';

// The API against the real PostgreSQL, Redis and ClickHouse of the local stack; ClickHouse
// tables live in a database of their own per run.
const env = { ...parseEnv(postgresEnv), ...parseEnv(redisEnv), ...parseEnv(clickhouseEnv) };
const run = randomUUID().slice(0, 8);
const database = `api_test_${run}`;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
const redis = new Redis(env.REDIS_URL);
const subs: Redis[] = [];
const clickhouse = createClient({ url: env.CLICKHOUSE_URL });
let app: FastifyInstance;

/** A registered, signed-in athlete: their id and the Authorization header of their access token. */
interface Athlete {
  id: string;
  email: string;
  auth: { authorization: string };
}
const PASSWORD = 'a long enough passphrase';
let n = 0;
async function athlete(profile: Record<string, unknown> = {}): Promise<Athlete> {
  const email = `athlete-${run}-${++n}@example.com`;
  const u = await app.inject({
    method: 'POST',
    url: '/v1/users',
    payload: { email, password: PASSWORD, name: `Athlete ${n}`, timezone: 'Europe/Zurich', ...profile },
  });
  expect(u.statusCode).toBe(201);
  const login = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password: PASSWORD },
  });
  expect(login.statusCode).toBe(200);
  return { id: u.json().id, email, auth: { authorization: `Bearer ${login.json().access_token}` } };
}

beforeAll(async () => {
  await createWorkerTables(clickhouse, database);
  app = await buildApp({
    logger: createLogger('api-test', 'silent'),
    registry: createMetricsRegistry('api_test'),
    rateLimitPerMinute: 1000,
    // This file signs many athletes up and in from one address (rate limits: resilience.int.test.ts).
    authRateLimits: { perIpPerMinute: 1000, perAccountPer15Min: 1000 },
    bodyLimitBytes: 64 * 1024,
    checks: [{ name: 'postgres', check: async () => void (await pool.query('SELECT 1')) }],
    deps: {
      pg: pool,
      redis,
      redisSub: () => {
        const r = new Redis(env.REDIS_URL);
        subs.push(r);
        return r;
      },
      clickhouse,
      clickhouseDatabase: database,
      mqttPublicUrl: 'mqtt://127.0.0.1:1883',
      auth: await testAuth(),
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await Promise.all([pool.end(), clickhouse.close()]);
  redis.disconnect();
  for (const s of subs) s.disconnect();
});

describe('users and devices', () => {
  test('register, read and edit the profile; e-mails are unique case-insensitively', async () => {
    const email = `Ann-${run}@Example.com`;
    const u = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { 'content-type': 'application/json' },
      payload: { email, password: PASSWORD, name: 'Ann', timezone: 'europe/zurich', max_hr: 190 },
    });
    expect(u.statusCode).toBe(201);
    const user = u.json();
    expect(user).toMatchObject({
      email: email.toLowerCase(),
      name: 'Ann',
      timezone: 'Europe/Zurich',
      max_hr: 190,
      birth_date: null,
      preferences: { units: 'metric', week_start: 'monday' },
    });
    expect(user).not.toHaveProperty('password_hash');
    const stored = await pool.query('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    expect(stored.rows[0].password_hash).toMatch(/^scrypt\$17\$8\$1\$/);

    const dup = await app.inject({
      method: 'POST',
      url: '/v1/users',
      payload: { email: email.toUpperCase(), password: PASSWORD, name: 'Ann', timezone: 'UTC' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(dup.json().code).toBe('conflict');

    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: email.toUpperCase(), password: PASSWORD },
    });
    const auth = { authorization: `Bearer ${login.json().access_token}` };
    const me = await app.inject({ method: 'GET', url: '/v1/users/me', headers: auth });
    expect(me.json()).toEqual(user);

    const patched = await app.inject({
      method: 'PATCH',
      url: '/v1/users/me',
      headers: auth,
      payload: {
        birth_date: '1990-05-17',
        sex: 'female',
        weight_kg: 61.5,
        resting_hr: 48,
        preferences: { units: 'imperial' },
      },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      birth_date: '1990-05-17',
      sex: 'female',
      weight_kg: 61.5,
      max_hr: 190,
      resting_hr: 48,
      preferences: { units: 'imperial', week_start: 'monday' },
    });
    const cleared = await app.inject({
      method: 'PATCH',
      url: '/v1/users/me',
      headers: auth,
      payload: { max_hr: null },
    });
    expect(cleared.json().max_hr).toBeNull();
    const tz = await app.inject({
      method: 'PATCH',
      url: '/v1/users/me',
      headers: auth,
      payload: { timezone: 'Mars/Olympus' },
    });
    expect([tz.statusCode, tz.json().code]).toEqual([400, 'validation_failed']);
    const offset = await app.inject({
      method: 'PATCH',
      url: '/v1/users/me',
      headers: auth,
      payload: { timezone: '+01:00' },
    });
    expect(offset.json().code).toBe('validation_failed');
  });

  test('the old per-id routes are gone: nobody reads or provisions another account', async () => {
    const a = await athlete();
    const b = await athlete();
    const read = await app.inject({ method: 'GET', url: `/v1/users/${b.id}`, headers: a.auth });
    expect([read.statusCode, read.json().code]).toEqual([404, 'route_not_found']);
    const mint = await app.inject({
      method: 'POST',
      url: `/v1/users/${b.id}/devices`,
      headers: a.auth,
      payload: { name: 'x' },
    });
    expect(mint.statusCode).toBe(404);
  });

  test("register a device of one's own, token stored only as its hash, list it, revoke it", async () => {
    const a = await athlete();
    const b = await athlete();
    const deviceId = `dev-${run}`;
    const d = await app.inject({
      method: 'POST',
      url: '/v1/devices',
      headers: a.auth,
      payload: { name: 'watch', device_id: deviceId },
    });
    expect(d.statusCode).toBe(201);
    const dev = d.json();
    expect(dev).toMatchObject({ device_id: deviceId, user_id: a.id, name: 'watch' });
    expect(dev.mqtt).toMatchObject({
      username: deviceId,
      telemetry_topic: `v1/devices/${deviceId}/telemetry/json`,
    });
    const { rows } = await pool.query('SELECT token_hash, user_id FROM devices WHERE id = $1', [deviceId]);
    expect(rows[0]).toEqual({ token_hash: hashDeviceToken(dev.token), user_id: a.id });

    const again = await app.inject({
      method: 'POST',
      url: '/v1/devices',
      headers: b.auth,
      payload: { name: 'watch', device_id: deviceId },
    });
    expect(again.json().code).toBe('conflict');

    const listed = await app.inject({ method: 'GET', url: '/v1/devices', headers: a.auth });
    expect(listed.json().items).toEqual([
      {
        device_id: deviceId,
        name: 'watch',
        created_at: dev.created_at,
        last_seen_at: null,
        revoked_at: null,
      },
    ]);
    expect((await app.inject({ method: 'GET', url: '/v1/devices', headers: b.auth })).json().items).toEqual(
      [],
    );

    // Someone else's device is not found, and stays valid.
    const theirs = await app.inject({ method: 'DELETE', url: `/v1/devices/${deviceId}`, headers: b.auth });
    expect([theirs.statusCode, theirs.json().code]).toEqual([404, 'not_found']);
    expect(
      (await pool.query('SELECT revoked_at FROM devices WHERE id = $1', [deviceId])).rows[0].revoked_at,
    ).toBeNull();

    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/devices/${deviceId}`, headers: a.auth })).statusCode,
    ).toBe(204);
    const revoked = await pool.query('SELECT revoked_at FROM devices WHERE id = $1', [deviceId]);
    expect(revoked.rows[0].revoked_at).toBeInstanceOf(Date);
    // Idempotent: revoking again answers the same and keeps the first time.
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/devices/${deviceId}`, headers: a.auth })).statusCode,
    ).toBe(204);
    const after = await pool.query('SELECT revoked_at FROM devices WHERE id = $1', [deviceId]);
    expect(after.rows[0].revoked_at).toEqual(revoked.rows[0].revoked_at);
    const gone = await app.inject({ method: 'DELETE', url: `/v1/devices/nope-${run}`, headers: a.auth });
    expect(gone.json().code).toBe('not_found');
  });

  test('bad input gets a typed problem', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/users',
      payload: { email: 'not-an-email', password: PASSWORD, name: 'x', timezone: 'UTC' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'validation_failed',
      status: 400,
      type: 'https://fitstream.dev/problems/validation_failed',
    });
    const broken = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(broken.json().code).toBe('invalid_json');
    const huge = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'a@b.c', name: 'x'.repeat(70 * 1024) }),
    });
    expect(huge.json().code).toBe('payload_too_large');
    const none = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect([none.statusCode, none.json().code]).toEqual([404, 'route_not_found']);
    // The router's own refusals are problem+json too (they happen before any route runs).
    const long = await app.inject({
      method: 'GET',
      url: `/v1/live/users/${'x'.repeat(MAX_PARAM_LENGTH + 1)}/sessions`,
    });
    expect([long.statusCode, long.headers['content-type'], long.json().code]).toEqual([
      414,
      'application/problem+json; charset=utf-8',
      'uri_too_long',
    ]);
    const badUrl = await app.inject({ method: 'GET', url: '/v1/devices/%E0%A4%A' });
    expect([badUrl.statusCode, badUrl.json().code]).toEqual([400, 'validation_failed']);
    for (const password of ['short1!', 'password1234', 'aaaaaaaaaaaa']) {
      const weak = await app.inject({
        method: 'POST',
        url: '/v1/users',
        payload: { email: `weak-${run}@example.com`, password, name: 'x', timezone: 'UTC' },
      });
      expect([weak.statusCode, weak.json().code]).toEqual([400, 'password_too_weak']);
    }
    const future = await app.inject({
      method: 'POST',
      url: '/v1/users',
      payload: {
        email: `future-${run}@example.com`,
        password: PASSWORD,
        name: 'x',
        timezone: 'UTC',
        birth_date: '2999-01-01',
      },
    });
    expect(future.json().code).toBe('validation_failed');
  });
});

describe('sign-in and tokens', () => {
  test('login failures look the same whether or not the e-mail exists', async () => {
    const a = await athlete();
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: a.email, password: 'not the password' },
    });
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: `nobody-${run}@example.com`, password: 'not the password' },
    });
    for (const r of [wrong, unknown])
      expect([r.statusCode, r.json().code]).toEqual([401, 'invalid_credentials']);
    const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
  });

  test('every route but the public ones needs a valid token; bad tokens get 401 with a stable code', async () => {
    const missing = await app.inject({ method: 'GET', url: '/v1/users/me' });
    expect([missing.statusCode, missing.json().code]).toEqual([401, 'token_missing']);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    const junk = await app.inject({
      method: 'GET',
      url: '/v1/users/me',
      headers: { authorization: 'Bearer x.y.z' },
    });
    expect([junk.statusCode, junk.json().code]).toEqual([401, 'token_invalid']);
    const basic = await app.inject({
      method: 'GET',
      url: '/v1/users/me',
      headers: { authorization: 'Basic eDp5' },
    });
    expect(basic.json().code).toBe('token_invalid');

    const table = app.routeTable();
    const publicRoutes = table.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes.filter((r) => !r.includes('/docs'))).toEqual(
      expect.arrayContaining([
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'POST /v1/users',
        'POST /v1/auth/login',
        'POST /v1/auth/refresh',
        'GET /live',
        'GET /app',
        'GET /app/config.json',
        'GET /app/*',
      ]),
    );
    expect(publicRoutes.filter((r) => !r.includes('/docs'))).toHaveLength(10);
    // Every other route refuses a caller without a token before it looks at anything else.
    for (const r of table.filter((x) => x.access !== 'public')) {
      const url = r.url.replace(/:activityId/g, randomUUID()).replace(/:[A-Za-z]+/g, 'x');
      const res = await app.inject({ method: r.method as 'GET', url });
      expect([r.method, r.url, res.statusCode, res.json().code]).toEqual([
        r.method,
        r.url,
        401,
        'token_missing',
      ]);
    }
  });

  test('refresh rotates; a reused refresh token ends the sign-in; logout ends it too', async () => {
    const a = await athlete();
    const login = (
      await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: a.email, password: PASSWORD },
      })
    ).json();
    expect(login).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const refresh = (refresh_token: string) =>
      app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token } });
    const r1 = await refresh(login.refresh_token);
    expect(r1.statusCode).toBe(200);
    const next = r1.json();
    expect(next.refresh_token).not.toBe(login.refresh_token);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/v1/users/me',
          headers: { authorization: `Bearer ${next.access_token}` },
        })
      ).statusCode,
    ).toBe(200);

    // The first token again: someone else holds the family, so all of it stops working.
    const reuse = await refresh(login.refresh_token);
    expect([reuse.statusCode, reuse.json().code]).toEqual([401, 'refresh_token_invalid']);
    expect((await refresh(next.refresh_token)).json().code).toBe('refresh_token_invalid');

    const other = (
      await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: a.email, password: PASSWORD },
      })
    ).json();
    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: { authorization: `Bearer ${other.access_token}` },
    });
    expect(out.statusCode).toBe(204);
    expect((await refresh(other.refresh_token)).json().code).toBe('refresh_token_invalid');
    expect((await refresh('not-a-token')).json().code).toBe('refresh_token_invalid');
  });

  test('a password change needs the current password and ends the other sign-ins', async () => {
    const a = await athlete();
    const signIn = async (password: string) =>
      app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: a.email, password } });
    const here = (await signIn(PASSWORD)).json();
    const elsewhere = (await signIn(PASSWORD)).json();
    const auth = { authorization: `Bearer ${here.access_token}` };
    const wrong = await app.inject({
      method: 'PATCH',
      url: '/v1/users/me',
      headers: auth,
      payload: { password: 'a new long passphrase', current_password: 'wrong wrong wrong' },
    });
    expect([wrong.statusCode, wrong.json().code]).toEqual([403, 'current_password_incorrect']);
    const without = await app.inject({
      method: 'PATCH',
      url: '/v1/users/me',
      headers: auth,
      payload: { password: 'a new long passphrase' },
    });
    expect(without.json().code).toBe('validation_failed');
    const ok = await app.inject({
      method: 'PATCH',
      url: '/v1/users/me',
      headers: auth,
      payload: { password: 'a new long passphrase', current_password: PASSWORD },
    });
    expect(ok.statusCode).toBe(200);
    expect((await signIn(PASSWORD)).json().code).toBe('invalid_credentials');
    expect((await signIn('a new long passphrase')).statusCode).toBe(200);
    const refresh = (refresh_token: string) =>
      app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token } });
    expect((await refresh(elsewhere.refresh_token)).json().code).toBe('refresh_token_invalid');
    expect((await refresh(here.refresh_token)).statusCode).toBe(200);
  });
});

describe('activities', () => {
  test('the latest version of an activity, its list entry and the stats roll-up, for its athlete only', async () => {
    const owner = await athlete();
    const stranger = await athlete();
    const userId = owner.id;
    const base = {
      activity_id: `act-${run}`,
      user_id: userId,
      device_id: 'd',
      session_id: 's',
      sport: 'running',
      algorithm_version: 'test',
      day: '2026-11-20',
      start_ts: 1_763_600_000_000,
      end_ts: 1_763_603_600_000,
      elapsed_s: 3600,
      moving_s: 3500,
      distance_m: 10_000,
      device_distance_m: null,
      raw_distance_m: 10_400,
      avg_speed_mps: 2.86,
      max_speed_mps: 4.1,
      avg_pace_s_per_km: 350,
      elev_gain_m: 120,
      elev_loss_m: 118,
      min_alt_m: 370,
      max_alt_m: 430,
      hr_avg: 150,
      hr_max: 172,
      hr_zones_s: [0, 600, 1800, 1000, 100],
      hr_trimp: 110,
      hr_max_used: 190,
      hr_max_source: 'user',
      cadence_avg: 170,
      power_avg: null,
      power_max: null,
      normalized_power: null,
      calories: 700,
      calories_method: 'hr',
      polyline: '_p~iF~ps|U',
      laps: '[]',
      splits_km: '[]',
      splits_mile: '[]',
      best_efforts: '[]',
      strength: 'null',
      sample_count: 3600,
      rejected_count: 3,
      duplicate_count: 0,
    };
    await clickhouse.insert({
      table: `${database}.activities`,
      format: 'JSONEachRow',
      values: [
        { ...base, version: 1, distance_m: 9000, summary: JSON.stringify({ distanceM: 9000 }) },
        { ...base, version: 2, summary: JSON.stringify({ distanceM: 10_000, splitsKm: [] }) },
      ],
    });
    const one = await app.inject({ method: 'GET', url: `/v1/activities/act-${run}`, headers: owner.auth });
    expect(one.statusCode).toBe(200);
    // stored by the worker (not uploaded through the API): ready, with no name or notes of an upload
    expect(one.json()).toEqual({
      activity_id: `act-${run}`,
      status: 'ready',
      name: null,
      notes: null,
      visibility: 'followers',
      version: 2,
      // the worker's camelCase summary, answered in snake_case
      summary: { distance_m: 10_000, splits_km: [] },
      // no file behind it
      device_totals: null,
      failure: null,
    });

    const list = await app.inject({ method: 'GET', url: '/v1/activities?limit=5', headers: owner.auth });
    expect(list.json().items).toHaveLength(1);
    const byId = await app.inject({
      method: 'GET',
      url: `/v1/activities?user_id=${userId}`,
      headers: owner.auth,
    });
    expect(byId.json()).toEqual(list.json());
    expect(list.json().items[0]).toMatchObject({
      activity_id: `act-${run}`,
      version: 2,
      distance_m: 10_000,
      hr_avg: 150,
      start_ts: 1_763_600_000_000,
      start_time: '2025-11-20T00:53:20.000Z',
      end_time: '2025-11-20T01:53:20.000Z',
    });

    // The latest version only, on the local date it started (00:53 UTC is 01:53 in the athlete's zone).
    const stats = await app.inject({
      method: 'GET',
      url: `/v1/users/${userId}/stats?from=2025-11-01&to=2025-11-30`,
      headers: owner.auth,
    });
    const running = {
      sport: 'running',
      activities: 1,
      distance_m: 10_000,
      moving_s: 3500,
      elev_gain_m: 120,
      calories: 700,
      avg_speed_mps: 10_000 / 3500,
      avg_pace_s_per_km: 350,
    };
    expect(stats.json().periods.range).toEqual({
      from: '2025-11-01',
      to: '2025-11-30',
      overall: { ...running, sport: undefined },
      by_sport: [running],
    });
    expect(stats.json().periods.lifetime.by_sport).toEqual([running]);
    const outside = await app.inject({
      method: 'GET',
      url: `/v1/users/${userId}/stats?from=2025-10-01&to=2025-10-31`,
      headers: owner.auth,
    });
    expect(outside.json().periods.range.by_sport).toEqual([]);

    expect(
      (await app.inject({ method: 'GET', url: `/v1/activities/none-${run}`, headers: owner.auth })).json()
        .code,
    ).toBe('not_found');
    expect(
      (await app.inject({ method: 'GET', url: `/v1/activities/bad'quote`, headers: owner.auth })).json().code,
    ).toBe('validation_failed');

    // Another athlete sees none of it: the same 404 as for what does not exist.
    for (const url of [
      `/v1/activities/act-${run}`,
      `/v1/activities?user_id=${userId}`,
      `/v1/users/${userId}/stats?from=2026-11-01&to=2026-11-30`,
      `/v1/users/${userId}/stats`,
    ]) {
      const r = await app.inject({ method: 'GET', url, headers: stranger.auth });
      expect([url, r.statusCode, r.json().code]).toEqual([url, 404, 'not_found']);
    }
    expect(
      (await app.inject({ method: 'GET', url: '/v1/activities', headers: stranger.auth })).json().items,
    ).toEqual([]);
  });
});

describe('live sessions', () => {
  test('snapshot from Redis and server-sent events on updates, for its athlete only', async () => {
    const owner = await athlete();
    const stranger = await athlete();
    const sessionId = `live-${run}`;
    const userId = owner.id;
    const activityId = activityIdFor(userId, 'd', sessionId);
    const snap = {
      activityId,
      userId,
      deviceId: 'd',
      sessionId,
      sport: 'running',
      status: 'active',
      ts: 1000,
      lat: 46.5,
      lon: 6.6,
      hr: 150,
      speedMps: 3,
      paceSPerKm: 333.3,
      distanceM: 1200,
      elapsedS: 400,
      movingS: 390,
      samples: 400,
    };
    const fields = Object.fromEntries(Object.entries(snap).map(([k, v]) => [k, String(v)]));
    await redis.hset(`fitstream:live:${activityId}`, { ...fields, hr: '' });
    await redis.expire(`fitstream:live:${activityId}`, 60);
    await redis.zadd(`fitstream:live:active:${userId}`, 1000, activityId);
    await redis.expire(`fitstream:live:active:${userId}`, 60);

    const got = await app.inject({
      method: 'GET',
      url: `/v1/live/sessions/${activityId}`,
      headers: owner.auth,
    });
    // The worker's camelCase hash, answered in snake_case with the device time also as ISO 8601.
    expect(got.json()).toEqual({
      activity_id: activityId,
      user_id: userId,
      device_id: 'd',
      session_id: sessionId,
      sport: 'running',
      status: 'active',
      ts: 1000,
      time: '1970-01-01T00:00:01.000Z',
      lat: 46.5,
      lon: 6.6,
      hr: null,
      speed_mps: 3,
      pace_s_per_km: 333.3,
      distance_m: 1200,
      elapsed_s: 400,
      moving_s: 390,
      samples: 400,
    });
    const items = (
      await app.inject({ method: 'GET', url: `/v1/live/users/${userId}/sessions`, headers: owner.auth })
    ).json().items;
    expect(items).toHaveLength(1);
    expect(items[0].activity_id).toBe(activityId);
    expect(
      (await app.inject({ method: 'GET', url: `/v1/live/sessions/${randomUUID()}`, headers: owner.auth }))
        .statusCode,
    ).toBe(404);
    // A client session id is not a live session's id: it is refused, not looked up.
    const bySession = await app.inject({
      method: 'GET',
      url: `/v1/live/sessions/${sessionId}`,
      headers: owner.auth,
    });
    expect([bySession.statusCode, bySession.json().code]).toEqual([400, 'validation_failed']);

    // Another athlete: the same 404 as for a session or athlete that does not exist.
    for (const url of [
      `/v1/live/sessions/${activityId}`,
      `/v1/live/users/${userId}/sessions`,
      `/v1/live/sessions/${activityId}/stream`,
      `/v1/live/users/${userId}/stream`,
    ]) {
      const r = await app.inject({ method: 'GET', url, headers: stranger.auth });
      expect([url, r.statusCode, r.json().code]).toEqual([url, 404, 'not_found']);
    }

    // SSE over a real socket: the initial snapshot, then a published update.
    const address = app.server.address() as { port: number };
    const ctrl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${address.port}/v1/live/users/${userId}/stream`, {
      signal: ctrl.signal,
      headers: owner.auth,
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil('"distance_m":1200');
    await redis.publish(`fitstream:live:user:${userId}`, JSON.stringify({ ...snap, distanceM: 1300 }));
    await readUntil('"distance_m":1300');
    expect(text.match(/event: snapshot/g)).toHaveLength(2);
    ctrl.abort();

    // A stream for an athlete with nothing live yet opens at once (headers flushed, retry hint).
    const idle = new AbortController();
    const idleRes = await fetch(`http://127.0.0.1:${address.port}/v1/live/users/${stranger.id}/stream`, {
      signal: idle.signal,
      headers: stranger.auth,
    });
    const first = await idleRes.body!.getReader().read();
    expect(new TextDecoder().decode(first.value)).toContain('retry: 3000');
    idle.abort();

    // A session awaited before it starts carries only snapshots of an athlete the caller may see.
    const later = activityIdFor(userId, 'd', `later-${run}`);
    const peek = new AbortController();
    const peekRes = await fetch(`http://127.0.0.1:${address.port}/v1/live/sessions/${later}/stream`, {
      signal: peek.signal,
      headers: stranger.auth,
    });
    expect(peekRes.status).toBe(200);
    const peekReader = peekRes.body!.getReader();
    let peeked = new TextDecoder().decode((await peekReader.read()).value);
    await redis.publish(`fitstream:live:session:${later}`, JSON.stringify({ ...snap, activityId: later }));
    const more = await Promise.race([
      peekReader.read().then((r) => new TextDecoder().decode(r.value)),
      new Promise<string>((r) => setTimeout(() => r(''), 500)),
    ]);
    peeked += more;
    expect(peeked).not.toContain('event: snapshot');
    peek.abort();

    // EventSource sends no headers: a single-use ticket, asked for with the token, opens the stream once.
    const ticketFor = async (who: Athlete) => {
      const t = await app.inject({ method: 'POST', url: '/v1/live/tickets', headers: who.auth });
      expect(t.statusCode).toBe(201);
      expect(t.json().expires_in).toBe(60);
      return t.json().ticket as string;
    };
    const ticket = await ticketFor(owner);
    const streamUrl = `http://127.0.0.1:${address.port}/v1/live/users/${userId}/stream`;
    const byTicket = new AbortController();
    const ticketRes = await fetch(`${streamUrl}?ticket=${ticket}`, { signal: byTicket.signal });
    expect([ticketRes.status, ticketRes.headers.get('content-type')]).toEqual([
      200,
      expect.stringMatching(/^text\/event-stream/),
    ]);
    const ticketed = await ticketRes.body!.getReader().read();
    expect(new TextDecoder().decode(ticketed.value)).toContain('retry: 3000');
    byTicket.abort();
    const again = await app.inject({
      method: 'GET',
      url: `/v1/live/users/${userId}/stream?ticket=${ticket}`,
    });
    expect([again.statusCode, again.json().code]).toEqual([401, 'ticket_invalid']);
    const forged = await app.inject({ method: 'GET', url: `/v1/live/users/${userId}/stream?ticket=forged` });
    expect(forged.json().code).toBe('ticket_invalid');
    // A ticket is the caller, not a key to anything: another athlete's ticket sees nothing of this one.
    const theirs = await app.inject({
      method: 'GET',
      url: `/v1/live/users/${userId}/stream?ticket=${await ticketFor(stranger)}`,
    });
    expect([theirs.statusCode, theirs.json().code]).toEqual([404, 'not_found']);
    // Tickets open streams only: the other routes still want the header.
    const elsewhere = await app.inject({
      method: 'GET',
      url: `/v1/users/me?ticket=${await ticketFor(owner)}`,
    });
    expect(elsewhere.json().code).toBe('token_missing');

    const page = await app.inject({ method: 'GET', url: '/live' });
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('EventSource');
  });
});

describe('ops', () => {
  test('health, readiness, metrics and OpenAPI', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json().status).toBe('ready');
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'fitstream_api_test_process_cpu',
    );
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/users',
        '/v1/activities/{activityId}',
        '/v1/live/sessions/{activityId}',
        '/v1/live/sessions/{activityId}/stream',
      ]),
    );
  });
});
