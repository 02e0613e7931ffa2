import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { activityIdFor } from '../../pipelines/index.js';
import { clickhouseEnv, parseEnv, postgresEnv, redisEnv } from '../common/config.js';
import { hashDeviceToken } from '../common/device-tokens.js';
import { createLogger } from '../common/logger.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { applyWorkerSchema } from '../worker/clickhouse-schema.js';
import { buildApp } from './app.js';

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

beforeAll(async () => {
  await applyWorkerSchema(clickhouse, database);
  app = await buildApp({
    logger: createLogger('api-test', 'silent'),
    registry: createMetricsRegistry('api_test'),
    rateLimitPerMinute: 1000,
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
  test('create a user, register a device, token stored only as its hash, revoke', async () => {
    const email = `a-${run}@example.com`;
    const u = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { 'content-type': 'application/json' },
      payload: { email, name: 'Ann', maxHr: 190 },
    });
    expect(u.statusCode).toBe(201);
    const user = u.json();
    expect(user).toMatchObject({ email, name: 'Ann', maxHr: 190, birthYear: null });

    const dup = await app.inject({
      method: 'POST',
      url: '/v1/users',
      payload: { email: email.toUpperCase(), name: 'Ann' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(dup.json().code).toBe('conflict');

    const deviceId = `dev-${run}`;
    const d = await app.inject({
      method: 'POST',
      url: `/v1/users/${user.id}/devices`,
      payload: { name: 'watch', deviceId },
    });
    expect(d.statusCode).toBe(201);
    const dev = d.json();
    expect(dev.mqtt.telemetryTopic).toBe(`v1/devices/${deviceId}/telemetry/json`);
    const { rows } = await pool.query('SELECT token_hash, user_id FROM devices WHERE id = $1', [deviceId]);
    expect(rows[0]).toEqual({ token_hash: hashDeviceToken(dev.token), user_id: user.id });

    const again = await app.inject({
      method: 'POST',
      url: `/v1/users/${user.id}/devices`,
      payload: { name: 'watch', deviceId },
    });
    expect(again.json().code).toBe('conflict');

    expect((await app.inject({ method: 'POST', url: `/v1/devices/${deviceId}/revoke` })).statusCode).toBe(
      204,
    );
    const revoked = await pool.query('SELECT revoked_at FROM devices WHERE id = $1', [deviceId]);
    expect(revoked.rows[0].revoked_at).toBeInstanceOf(Date);
    expect((await app.inject({ method: 'POST', url: `/v1/devices/nope-${run}/revoke` })).json().code).toBe(
      'not_found',
    );
  });

  test('bad input gets a typed problem', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/users',
      payload: { email: 'not-an-email', name: 'x' },
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
    const missing = await app.inject({ method: 'GET', url: `/v1/users/${randomUUID()}` });
    expect(missing.json().code).toBe('not_found');
  });
});

describe('activities', () => {
  test('the latest version of an activity, its list entry and the stats roll-up', async () => {
    const userId = randomUUID();
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
    const one = await app.inject({ method: 'GET', url: `/v1/activities/act-${run}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual({ version: 2, summary: { distanceM: 10_000, splitsKm: [] } });

    const list = await app.inject({ method: 'GET', url: `/v1/activities?userId=${userId}&limit=5` });
    expect(list.json().items).toHaveLength(1);
    expect(list.json().items[0]).toMatchObject({
      activityId: `act-${run}`,
      version: 2,
      distanceM: 10_000,
      hrAvg: 150,
    });

    const stats = await app.inject({
      method: 'GET',
      url: `/v1/users/${userId}/stats?from=2026-11-01&to=2026-11-30`,
    });
    expect(stats.json()).toEqual({
      sports: [
        { sport: 'running', activities: 1, distanceM: 10_000, movingS: 3500, elevGainM: 120, calories: 700 },
      ],
    });
    const outside = await app.inject({
      method: 'GET',
      url: `/v1/users/${userId}/stats?from=2026-10-01&to=2026-10-31`,
    });
    expect(outside.json().sports).toEqual([]);

    expect((await app.inject({ method: 'GET', url: `/v1/activities/none-${run}` })).json().code).toBe(
      'not_found',
    );
    expect((await app.inject({ method: 'GET', url: `/v1/activities/bad'quote` })).json().code).toBe(
      'validation_failed',
    );
  });
});

describe('live sessions', () => {
  test('snapshot from Redis and server-sent events on updates', async () => {
    const sessionId = `live-${run}`;
    const userId = `u-${run}`;
    const activityId = activityIdFor(userId, sessionId);
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

    const got = await app.inject({ method: 'GET', url: `/v1/live/sessions/${activityId}` });
    expect(got.json()).toEqual({ ...snap, hr: null });
    const items = (await app.inject({ method: 'GET', url: `/v1/live/users/${userId}/sessions` })).json()
      .items;
    expect(items).toHaveLength(1);
    expect(items[0].activityId).toBe(activityId);
    expect((await app.inject({ method: 'GET', url: `/v1/live/sessions/${randomUUID()}` })).statusCode).toBe(
      404,
    );
    // A client session id is not a live session's id: it is refused, not looked up.
    const bySession = await app.inject({ method: 'GET', url: `/v1/live/sessions/${sessionId}` });
    expect([bySession.statusCode, bySession.json().code]).toEqual([400, 'validation_failed']);

    // SSE over a real socket: the initial snapshot, then a published update.
    const address = app.server.address() as { port: number };
    const ctrl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${address.port}/v1/live/users/${userId}/stream`, {
      signal: ctrl.signal,
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
    await readUntil('"distanceM":1200');
    await redis.publish(`fitstream:live:user:${userId}`, JSON.stringify({ ...snap, distanceM: 1300 }));
    await readUntil('"distanceM":1300');
    expect(text.match(/event: snapshot/g)).toHaveLength(2);
    ctrl.abort();

    // A stream for an athlete with nothing live yet opens at once (headers flushed, retry hint).
    const idle = new AbortController();
    const idleRes = await fetch(`http://127.0.0.1:${address.port}/v1/live/users/idle-${run}/stream`, {
      signal: idle.signal,
    });
    const first = await idleRes.body!.getReader().read();
    expect(new TextDecoder().decode(first.value)).toContain('retry: 3000');
    idle.abort();

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
