// The whole path for goals: a device publishes a workout over MQTT to the gateway, the worker finalises
// it and announces ActivityCreated, the engagement service counts it for the athlete's weekly goal and
// streak and publishes GoalAchieved once, and the API shows the goal achieved.
import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { isoDate, localDay } from '../../pipelines/engagement/local-days.js';
import { periodOf } from '../../pipelines/engagement/periods.js';
import { buildApp } from '../../services/api/app.js';
import type { ApiDeps } from '../../services/api/deps.js';
import { clickhouseEnv, parseEnv, redisEnv } from '../../services/common/config.js';
import { createLogger } from '../../services/common/logger.js';
import { createMetricsRegistry } from '../../services/common/metrics.js';
import { type RunningEngagement, startEngagement } from '../../services/engagement/app.js';
import { sessionTopic, telemetryTopic } from '../../services/gateway/topics.js';
import { type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { computeActivity } from '../../services/worker/compute.js';
import { testAuth } from '../support/api-auth.js';
import { type EngagementStack, engagementStack } from '../support/engagement-stack.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { type Isolated, isolate, rid } from '../support/worker.js';

const env = { ...parseEnv(redisEnv), ...parseEnv(clickhouseEnv) };

describe('MQTT -> gateway -> worker -> engagement -> API', () => {
  let iso: Isolated;
  let gw: TestGateway;
  let w: RunningWorker;
  let stack: EngagementStack;
  let engagement: RunningEngagement;
  let app: FastifyInstance;
  let auth: ApiDeps['auth'];
  const redis = new Redis(env.REDIS_URL);
  const clickhouse = createClient({ url: env.CLICKHOUSE_URL });

  beforeAll(async () => {
    iso = await isolate();
    stack = await engagementStack();
    gw = await startTestGateway({ TOPIC_SAMPLES: iso.topic, TOPIC_DLQ: iso.dlq });
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
    engagement = await startEngagement(
      { ...stack.config, TOPIC_ACTIVITIES: iso.activities },
      createLogger('engagement-test', 'warn'),
    );
    auth = await testAuth();
    app = await buildApp({
      logger: createLogger('api-test', 'silent'),
      registry: createMetricsRegistry('api_test'),
      rateLimitPerMinute: 10_000,
      bodyLimitBytes: 64 * 1024,
      checks: [],
      deps: {
        pg: stack.db.pool,
        redis,
        redisSub: () => new Redis(env.REDIS_URL),
        clickhouse,
        clickhouseDatabase: iso.database,
        mqttPublicUrl: 'mqtt://127.0.0.1:1883',
        auth,
      },
    });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await engagement?.close();
    await w?.close();
    await gw?.close();
    await stack?.cleanup();
    await iso?.cleanup();
    redis.disconnect();
    await clickhouse.close();
  });

  test('a workout over MQTT achieves a weekly goal once and starts a streak', async () => {
    const dev = await gw.device();
    // the athlete in the engagement database (the gateway's test user lives in the shared one)
    await stack.db.pool.query('INSERT INTO users (id, email, name) VALUES ($1, $2, $3)', [
      dev.userId,
      `${dev.userId}@e2e.invalid`,
      'e2e',
    ]);
    const headers = {
      authorization: `Bearer ${await auth.tokens.sign({ user_id: dev.userId, roles: [], session_id: randomUUID() })}`,
    };
    const created = await app.inject({
      method: 'POST',
      url: '/v1/goals',
      headers,
      payload: { goal_type: 'distance', period: 'week', target_value: 500, start_date: '2026-01-05' },
    });
    expect(created.statusCode).toBe(201);
    const goalId = created.json().id;

    const c = await mqtt.connectAsync(gw.url, {
      protocolVersion: 4,
      clientId: dev.deviceId,
      username: dev.deviceId,
      password: dev.token,
      reconnectPeriod: 0,
    });
    const sessionId = `s-${rid()}`;
    const { samples } = generateSession({
      sport: 'running',
      seed: 5,
      durationS: 300,
      startTs: Date.now() - 3_600_000,
      hrSpikeProbability: 0,
    });
    const pub = (topic: string, body: unknown) => c.publishAsync(topic, JSON.stringify(body), { qos: 1 });
    await pub(sessionTopic(dev.deviceId), { sessionId, kind: 'start', sport: 'running', ts: samples[0]!.ts });
    for (let i = 0; i < samples.length; i += 30) {
      await pub(telemetryTopic(dev.deviceId, 'json'), {
        sessionId,
        sport: 'running',
        samples: samples.slice(i, i + 30),
      });
    }
    await pub(sessionTopic(dev.deviceId), {
      sessionId,
      kind: 'end',
      sport: 'running',
      ts: samples.at(-1)!.ts,
    });
    await c.endAsync();

    const records = await stack.waitForGoals((r) => r.some((x) => x.name === 'GoalAchieved'), 90_000);
    const day = localDay(samples[0]!.ts, 'UTC');
    const week = periodOf({ kind: 'week', weekStart: 1 }, day)!;
    const achieved = records.filter((x) => x.name === 'GoalAchieved');
    expect(achieved).toHaveLength(1);
    expect(achieved[0]!.value).toMatchObject({
      goalId,
      userId: dev.userId,
      periodStartDate: isoDate(week.start),
    });
    expect(achieved[0]!.value.achieved as number).toBeGreaterThan(500);

    const goal = (await app.inject({ method: 'GET', url: `/v1/goals/${goalId}`, headers })).json();
    const shown = goal.current_period_start === isoDate(week.start) ? goal.status : goal.history[0].status;
    expect(shown).toBe('achieved');
    const streaks = (await app.inject({ method: 'GET', url: '/v1/streaks', headers })).json();
    expect(streaks.daily.overall.longest).toEqual({
      length: 1,
      start_date: isoDate(day),
      end_date: isoDate(day),
    });
  });
});
