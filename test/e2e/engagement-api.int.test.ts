// Goals, streaks and challenges through the API with the engagement service running, on the real
// Kafka, schema registry and PostgreSQL (a private database per run): the views follow the activity
// events, and the challenge routes go through the participant state machine.
import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localTime } from '../../pipelines/engagement/local-days.js';
import { elapsedFraction, periodOf } from '../../pipelines/engagement/periods.js';
import { buildApp } from '../../services/api/app.js';
import type { ApiDeps } from '../../services/api/deps.js';
import { clickhouseEnv, parseEnv, redisEnv } from '../../services/common/config.js';
import { createLogger } from '../../services/common/logger.js';
import { createMetricsRegistry } from '../../services/common/metrics.js';
import { type RunningEngagement, startEngagement } from '../../services/engagement/app.js';
import { testAuth } from '../support/api-auth.js';
import { activity, deletion, type EngagementStack, engagementStack } from '../support/engagement-stack.js';

const env = { ...parseEnv(redisEnv), ...parseEnv(clickhouseEnv) };
const DAY = 86_400_000;
let stack: EngagementStack;
let engagement: RunningEngagement;
let app: FastifyInstance;
let auth: ApiDeps['auth'];
const redis = new Redis(env.REDIS_URL);
const clickhouse = createClient({ url: env.CLICKHOUSE_URL });

async function as(userId: string, roles: ('support' | 'admin')[] = []) {
  // The API checks support and admin powers in user_roles (services/api/audit.ts), as granted by the operator.
  for (const role of roles)
    await stack.db.pool.query(
      `INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, $2, 'test') ON CONFLICT DO NOTHING`,
      [userId, role],
    );
  const token = await auth.tokens.sign({ user_id: userId, roles, session_id: randomUUID() });
  return { authorization: `Bearer ${token}` };
}

async function eventually<T>(f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`never held; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

beforeAll(async () => {
  stack = await engagementStack();
  engagement = await startEngagement(stack.config, createLogger('engagement-test', 'warn'));
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
      clickhouseDatabase: 'unused',
      mqttPublicUrl: 'mqtt://127.0.0.1:1883',
      auth,
    },
  });
});

afterAll(async () => {
  await app?.close();
  await engagement?.close();
  await stack?.cleanup();
  redis.disconnect();
  await clickhouse.close();
});

describe('goals, streaks and challenges', () => {
  test('a weekly goal: new -> on_track -> achieved with one GoalAchieved; a late upload; a deletion revokes', async () => {
    const user = await stack.user({ timezone: 'America/New_York' });
    const h = await as(user);
    const T = 10_000;
    const created = await app.inject({
      method: 'POST',
      url: '/v1/goals',
      headers: h,
      payload: { goal_type: 'distance', period: 'week', target_value: T, start_date: '2020-01-06' },
    });
    expect(created.statusCode).toBe(201);
    const goal = created.json();
    expect(goal).toMatchObject({
      goal_type: 'distance',
      sport: null,
      period: 'week',
      status: 'new',
      current_value: 0,
    });
    const get = async () =>
      (await app.inject({ method: 'GET', url: `/v1/goals/${goal.id}`, headers: h })).json();

    // enough for the pace line at any time of the week, short of the target
    const now = Date.now();
    const lt = localTime(now, 'America/New_York');
    const week = periodOf({ kind: 'week', weekStart: 1 }, lt.day)!;
    const f = elapsedFraction(week, lt.day, lt.second);
    const v1 = Math.min(T - 1, Math.ceil(T * (f + 0.1)));
    const a1 = activity(user, now - 120_000, { distanceM: v1, startTs: now - 120_000 });
    await stack.send([{ name: 'ActivityCreated', value: a1 }]);
    const onTrack = await eventually(get, (g) => g.current_value === v1);
    expect(onTrack.status).toBe('on_track');
    expect(onTrack.expected_value).toBeLessThanOrEqual(v1);
    expect(onTrack.current_period_start).toBe(goal.current_period_start);

    const a2 = activity(user, now - 60_000, { distanceM: T - v1 + 1, startTs: now - 60_000 });
    await stack.send([{ name: 'ActivityCreated', value: a2 }]);
    const achieved = await eventually(get, (g) => g.status === 'achieved');
    expect(achieved.percent).toBeGreaterThanOrEqual(100);
    await stack.send([{ name: 'ActivityCreated', value: a2 }]); // redelivered

    // last week, uploaded late: that period turns achieved in the history
    const late = activity(user, (week.start - 3) * DAY + 17 * 3_600_000, { distanceM: T });
    await stack.send([{ name: 'ActivityCreated', value: late }]);
    const withHistory = await eventually(get, (g) => g.history[0]?.status === 'achieved');
    expect(withHistory.history[0].period_end).toBe(
      new Date((week.start - 1) * DAY).toISOString().slice(0, 10),
    );
    expect(withHistory.history[1].status).toBe('missed');

    await stack.send([{ name: 'ActivityDeleted', value: deletion(a2) }]);
    const reverted = await eventually(get, (g) => g.current_value === v1);
    expect(['on_track', 'behind']).toContain(reverted.status);
    const records = await stack.waitForGoals((r) => r.some((x) => x.name === 'GoalAchievementRevoked'));
    const achievedEvents = records.filter((x) => x.name === 'GoalAchieved' && x.value.goalId === goal.id);
    expect(achievedEvents.map((x) => x.value.periodStartDate).sort()).toEqual(
      [goal.current_period_start, withHistory.history[0].period_start].sort(),
    );

    const streaks = (await app.inject({ method: 'GET', url: '/v1/streaks', headers: h })).json();
    expect(streaks.daily.overall.current).toMatchObject({ length: 1 });
    expect(streaks.daily.by_sport.running.longest.length).toBeGreaterThanOrEqual(1);

    // PATCH and DELETE; someone else's goal is not found
    const other = await as(await stack.user());
    expect(
      (await app.inject({ method: 'GET', url: `/v1/goals/${goal.id}`, headers: other })).statusCode,
    ).toBe(404);
    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/goals/${goal.id}`,
      headers: h,
      payload: { target_value: v1 },
    });
    expect(patched.json().target_value).toBe(v1);
    await eventually(get, (g) => g.status === 'achieved');
    expect((await app.inject({ method: 'DELETE', url: `/v1/goals/${goal.id}`, headers: h })).statusCode).toBe(
      204,
    );
    expect((await app.inject({ method: 'GET', url: `/v1/goals/${goal.id}`, headers: h })).statusCode).toBe(
      404,
    );
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/goals',
      headers: h,
      payload: { goal_type: 'distance', period: 'custom', target_value: 1 },
    });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'validation_failed']);
  });

  test('a challenge: created by an admin, joined, completed; refusals carry their codes', async () => {
    const admin = await stack.user();
    const athlete = await stack.user();
    const bystander = await stack.user();
    const ha = await as(athlete);
    const today = new Date().toISOString().slice(0, 10);
    const body = {
      name: '2 activities a week',
      rule: { kind: 'activities_per_week', per_period: 2, target: 1 },
      milestones: [1],
      start_date: new Date(Date.now() - 2 * DAY).toISOString().slice(0, 10),
      end_date: new Date(Date.now() + 20 * DAY).toISOString().slice(0, 10),
      timezone: 'UTC',
    };
    const refused = await app.inject({ method: 'POST', url: '/v1/challenges', headers: ha, payload: body });
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'forbidden']);
    const created = await app.inject({
      method: 'POST',
      url: '/v1/challenges',
      headers: await as(admin, ['admin']),
      payload: body,
    });
    expect(created.statusCode).toBe(201);
    const cid = created.json().id;
    expect(created.json().my_state).toBe('unjoined');

    const post = async (url: string, headers: Record<string, string>) =>
      app.inject({ method: 'POST', url, headers });
    const support = await as(admin, ['support']);
    const force = await post(`/v1/challenges/${cid}/participants/${bystander}/complete`, support);
    expect([force.statusCode, force.json().code]).toEqual([409, 'not_joined']);
    expect(force.json().detail).toBe('The athlete has not joined this challenge');
    const notSupport = await post(`/v1/challenges/${cid}/participants/${bystander}/complete`, ha);
    expect([notSupport.statusCode, notSupport.json().code]).toEqual([403, 'forbidden']);
    const leaveFirst = await post(`/v1/challenges/${cid}/leave`, ha);
    expect(leaveFirst.json().code).toBe('not_joined');

    const joined = await post(`/v1/challenges/${cid}/join`, ha);
    expect([joined.statusCode, joined.json().state]).toEqual([200, 'joined']);
    const again = await post(`/v1/challenges/${cid}/join`, ha);
    expect([again.statusCode, again.json().code]).toEqual([409, 'already_joined']);
    const missing = await post(`/v1/challenges/${randomUUID()}/join`, ha);
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'challenge_not_found']);

    const now = Date.now();
    await stack.send([
      { name: 'ActivityCreated', value: activity(athlete, now - 3_600_000, { startTs: now - 3_600_000 }) },
      { name: 'ActivityCreated', value: activity(athlete, now - 1_800_000, { startTs: now - 1_800_000 }) },
    ]);
    const progress = async () =>
      (await app.inject({ method: 'GET', url: `/v1/challenges/${cid}/progress`, headers: ha })).json();
    const done = await eventually(progress, (p) => p.state === 'completed');
    expect(done).toMatchObject({ value: 1, target: 1, milestones_reached: [1], forced: false });
    const completedAgain = await post(`/v1/challenges/${cid}/participants/${athlete}/complete`, support);
    expect(completedAgain.json().code).toBe('already_completed');
    const records = await stack.waitForGoals((r) =>
      r.some(
        (x) => x.name === 'ChallengeProgressed' && x.value.kind === 'completed' && x.value.userId === athlete,
      ),
    );
    expect(
      records
        .filter((x) => x.name === 'ChallengeProgressed' && x.value.userId === athlete)
        .map((x) => x.value.kind),
    ).toEqual(['milestone', 'completed']);
    expect(today).toMatch(/^\d{4}/);
    const list = (await app.inject({ method: 'GET', url: '/v1/challenges', headers: ha })).json();
    expect(list.items.find((c: { id: string }) => c.id === cid).my_state).toBe('completed');
  });

  test('creating with an Idempotency-Key twice gives one goal; leaving a challenge keeps the progress for a rejoin', async () => {
    const user = await stack.user();
    const h = await as(user);
    const body = { goal_type: 'count', period: 'day', target_value: 2 };
    const once = await app.inject({
      method: 'POST',
      url: '/v1/goals',
      headers: { ...h, 'idempotency-key': 'k1' },
      payload: body,
    });
    const twice = await app.inject({
      method: 'POST',
      url: '/v1/goals',
      headers: { ...h, 'idempotency-key': 'k1' },
      payload: body,
    });
    expect([once.statusCode, twice.statusCode]).toEqual([201, 201]);
    expect(twice.json().id).toBe(once.json().id);
    const reused = await app.inject({
      method: 'POST',
      url: '/v1/goals',
      headers: { ...h, 'idempotency-key': 'k1' },
      payload: { ...body, target_value: 3 },
    });
    expect([reused.statusCode, reused.json().code]).toEqual([409, 'conflict']);
    const list = (await app.inject({ method: 'GET', url: '/v1/goals', headers: h })).json();
    expect(list.items).toHaveLength(1);

    const admin = await as(await stack.user(), ['admin']);
    const cb = {
      name: 'ten km',
      rule: { kind: 'total_distance', target: 10_000 },
      start_date: new Date(Date.now() - 2 * DAY).toISOString().slice(0, 10),
      end_date: new Date(Date.now() + 9 * DAY).toISOString().slice(0, 10),
      timezone: 'UTC',
    };
    const c1 = await app.inject({
      method: 'POST',
      url: '/v1/challenges',
      headers: { ...admin, 'idempotency-key': 'c' },
      payload: cb,
    });
    const c2 = await app.inject({
      method: 'POST',
      url: '/v1/challenges',
      headers: { ...admin, 'idempotency-key': 'c' },
      payload: cb,
    });
    expect(c2.json().id).toBe(c1.json().id);
    const cid = c1.json().id;
    const post = (what: string) =>
      app.inject({ method: 'POST', url: `/v1/challenges/${cid}/${what}`, headers: h });
    expect((await post('join')).json().state).toBe('joined');
    const now = Date.now();
    await stack.send([
      {
        name: 'ActivityCreated',
        value: activity(user, now - 600_000, { startTs: now - 600_000, distanceM: 4000 }),
      },
    ]);
    const progress = async () =>
      (await app.inject({ method: 'GET', url: `/v1/challenges/${cid}/progress`, headers: h })).json();
    await eventually(progress, (p) => p.value === 4000);
    expect((await post('leave')).json()).toMatchObject({ state: 'unjoined', value: 4000 });
    // while not joined, activities are not recorded as progress
    await stack.send([
      {
        name: 'ActivityCreated',
        value: activity(user, now - 300_000, { startTs: now - 300_000, distanceM: 1000 }),
      },
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await progress()).toMatchObject({ state: 'unjoined', value: 4000 });
    // rejoined: the progress comes from every activity in the window
    expect((await post('join')).json().state).toBe('joined');
    await eventually(progress, (p) => p.value === 5000);
  });
});
