import { randomInt, randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testAuth, tokenFor } from '../../test/support/api-auth.js';
import { clickhouseEnv, parseEnv, postgresEnv, redisEnv } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { type AppOptions, buildApp } from './app.js';
import type { ApiDeps } from './deps.js';

// Rate limits shared by API replicas through Redis, and what the API does when PostgreSQL or Redis is
// away — against the real local servers (the "away" ones are clients pointed at a closed port).
const env = { ...parseEnv(postgresEnv), ...parseEnv(redisEnv), ...parseEnv(clickhouseEnv) };
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
const redis = new Redis(env.REDIS_URL);
const clickhouse = createClient({ url: env.CLICKHOUSE_URL });
const clients: { disconnect(): void }[] = [];
const apps: FastifyInstance[] = [];
let auth: ApiDeps['auth'];

/** A client address of this test run only, so no other test's requests count against its limits. */
const randomAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

async function api(
  over: Partial<Omit<AppOptions, 'deps'>> & { deps?: Partial<ApiDeps> } = {},
): Promise<FastifyInstance> {
  const { deps, ...rest } = over;
  const app = await buildApp({
    logger: createLogger('api-test', 'silent'),
    registry: createMetricsRegistry('api_test'),
    rateLimitPerMinute: 1000,
    bodyLimitBytes: 64 * 1024,
    checks: [],
    ...rest,
    deps: {
      pg: pool,
      redis,
      redisSub: () => {
        const r = redis.duplicate();
        clients.push(r);
        return r;
      },
      clickhouse,
      clickhouseDatabase: 'default',
      mqttPublicUrl: 'mqtt://127.0.0.1:1883',
      auth,
      ...deps,
    },
  });
  apps.push(app);
  return app;
}

beforeAll(async () => {
  auth = await testAuth();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  for (const c of clients) c.disconnect();
  redis.disconnect();
  await Promise.all([pool.end(), clickhouse.close()]);
});

const login = (
  app: FastifyInstance,
  email: string,
  remoteAddress: string,
  headers: Record<string, string> = {},
) =>
  app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    remoteAddress,
    headers,
    payload: { email, password: 'not the password' },
  });

describe('rate limits', () => {
  test('sign-in attempts per address are counted across API instances (Redis)', async () => {
    const limits = { perIpPerMinute: 3, perAccountPer15Min: 100 };
    const [a, b] = [await api({ authRateLimits: limits }), await api({ authRateLimits: limits })];
    const address = randomAddress();
    const email = `nobody-${randomUUID()}@example.com`;
    const codes = [];
    for (const app of [a, b, a]) codes.push((await login(app, email, address)).statusCode);
    expect(codes).toEqual([401, 401, 401]);
    // The fourth, on the second instance: over the limit that both count in.
    const over = await login(b, email, address);
    expect(over.statusCode).toBe(429);
    expect(over.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(over.json().code).toBe('rate_limited');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await login(a, email, randomAddress())).statusCode).toBe(401);
  });

  test('sign-in attempts per account are limited from any address', async () => {
    const app = await api({ authRateLimits: { perIpPerMinute: 100, perAccountPer15Min: 2 } });
    const email = `target-${randomUUID()}@example.com`;
    expect((await login(app, email, randomAddress())).statusCode).toBe(401);
    expect((await login(app, email.toUpperCase(), randomAddress())).statusCode).toBe(401);
    const over = await login(app, email, randomAddress());
    expect([over.statusCode, over.json().code]).toEqual([429, 'rate_limited']);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(app, `other-${randomUUID()}@example.com`, randomAddress())).statusCode).toBe(401);
  });

  test('authenticated routes count per caller, whatever the address', async () => {
    const app = await api({ rateLimitPerMinute: 2 });
    const me = { authorization: `Bearer ${await tokenFor(auth.tokens, randomUUID())}` };
    const other = { authorization: `Bearer ${await tokenFor(auth.tokens, randomUUID())}` };
    const devices = (headers: Record<string, string>) =>
      app.inject({ method: 'GET', url: '/v1/devices', headers, remoteAddress: randomAddress() });
    expect([(await devices(me)).statusCode, (await devices(me)).statusCode]).toEqual([200, 200]);
    expect((await devices(me)).statusCode).toBe(429);
    expect((await devices(other)).statusCode).toBe(200);
  });

  test('X-Forwarded-For is believed from a configured proxy only', async () => {
    const limits = { perIpPerMinute: 1, perAccountPer15Min: 100 };
    const behindProxy = await api({ authRateLimits: limits, trustedProxies: ['10.0.0.0/8'] });
    const direct = await api({ authRateLimits: limits });
    const email = `xff-${randomUUID()}@example.com`;
    const proxy = randomAddress();
    // Through the trusted proxy, two clients have their own counters.
    for (const client of ['192.0.2.10', '192.0.2.11'])
      expect((await login(behindProxy, email, proxy, { 'x-forwarded-for': client })).statusCode).toBe(401);
    expect((await login(behindProxy, email, proxy, { 'x-forwarded-for': '192.0.2.10' })).statusCode).toBe(
      429,
    );
    // Without trust, the header is ignored: the same peer is one client, whatever it claims.
    const peer = randomAddress();
    expect((await login(direct, email, peer, { 'x-forwarded-for': '192.0.2.20' })).statusCode).toBe(401);
    expect((await login(direct, email, peer, { 'x-forwarded-for': '192.0.2.21' })).statusCode).toBe(429);
  });

  test('Redis away: limiting fails open, with a metric', async () => {
    const away = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    away.on('error', () => {});
    clients.push(away);
    const registry = createMetricsRegistry('api_test');
    const app = await api({
      authRateLimits: { perIpPerMinute: 1, perAccountPer15Min: 1 },
      rateLimitRedis: away,
      registry,
    });
    const email = `open-${randomUUID()}@example.com`;
    const address = randomAddress();
    for (let i = 0; i < 3; i++) expect((await login(app, email, address)).statusCode).toBe(401);
    const metric = await registry.getSingleMetricAsString('fitstream_api_rate_limit_store_errors_total');
    expect(Number(/ (\d+)$/m.exec(metric)?.[1])).toBeGreaterThanOrEqual(3);
  });
});

describe('PostgreSQL away', () => {
  test('routes that need it answer 503 with Retry-After; the others go on', async () => {
    const down = new pg.Pool({
      connectionString: 'postgres://x:y@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    down.on('error', () => {});
    const app = await api({ deps: { pg: down } });
    const userId = randomUUID();
    const headers = { authorization: `Bearer ${await tokenFor(auth.tokens, userId)}` };
    for (const [method, url, payload] of [
      ['GET', '/v1/users/me', undefined],
      ['GET', '/v1/devices', undefined],
      ['POST', '/v1/auth/login', { email: 'a@b.c', password: 'whatever whatever' }],
    ] as const) {
      const r = await app.inject({ method, url, headers, payload, remoteAddress: randomAddress() });
      expect([url, r.statusCode, r.json().code]).toEqual([url, 503, 'dependency_unavailable']);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.headers['retry-after']).toBe('5');
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Live sessions come from Redis: still served.
    const live = await app.inject({ method: 'GET', url: `/v1/live/users/${userId}/sessions`, headers });
    expect([live.statusCode, live.json()]).toEqual([200, { items: [] }]);
    await down.end();
  });
});
