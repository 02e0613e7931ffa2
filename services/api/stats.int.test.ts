// GET /v1/users/me/stats against the real stack: periods in the athlete's zone and first day of the week,
// personal bests, streaks from the engagement read model, and the Redis cache that an activities.v1
// record invalidates (the figure after the event is the new one, never the old).
import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isoDate, localDay, startOfLocalDay } from '../../pipelines/engagement/local-days.js';
import { weekStartOf } from '../../pipelines/engagement/periods.js';
import { avroTypes } from '../../schemas/avro.js';
import { registerSchemas, type SchemaIds } from '../../schemas/registry.js';
import type { ActivityCreated } from '../../schemas/types.js';
import { encodeConfluent } from '../../schemas/wire.js';
import { type ActivityRow, insertActivityRow } from '../../test/support/activity-rows.js';
import { type ApiStack, type SignedIn, startApiStack } from '../../test/support/api-stack.js';
import { kafkaEnv, parseEnv } from '../common/config.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { StatsInvalidator } from './stats-cache.js';

const TZ = 'Pacific/Auckland'; // +13 in December, +12 in June: local midnight is 11:00 or 12:00 UTC the day before

let s: ApiStack;
let kafka: Kafka;
let producer: Producer;
let ids: SchemaIds;
let invalidator: StatsInvalidator;
const topic = `apitest.activities.${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  s = await startApiStack();
  const env = parseEnv(kafkaEnv);
  kafka = new Kafka({ clientId: `apitest-${s.run}`, brokers: env.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  ids = await registerSchemas(new SchemaRegistry({ host: env.SCHEMA_REGISTRY_URL }));
  invalidator = new StatsInvalidator(kafka, s.redis, {
    topic,
    groupId: `apitest-stats-${s.run}`,
    registry: createMetricsRegistry('stats_test'),
  });
  await invalidator.start();
}, 60_000);

afterAll(async () => {
  await invalidator?.stop();
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  await s?.close();
});

type Row = ActivityRow;
const insertActivity = (user: SignedIn, r: Row) => insertActivityRow(s.clickhouse, s.database, user.id, r);

async function announce(user: SignedIn, activityId: string, r: Row) {
  const event: ActivityCreated = {
    activityId,
    userId: user.id,
    sessionId: activityId,
    deviceId: null,
    sport: r.sport as ActivityCreated['sport'],
    version: 1,
    algorithmVersion: 'test',
    startTs: r.startTs,
    endTs: r.startTs + r.movingS * 1000,
    distanceM: r.distanceM,
    movingS: r.movingS,
    elapsedS: r.movingS,
    elevationGainM: null,
    avgHr: null,
    maxHr: null,
    samples: 1,
    summaryJson: '{}',
    at: Date.now(),
  };
  await producer.send({
    topic,
    messages: [
      { key: user.id, value: encodeConfluent(ids.ActivityCreated, avroTypes.ActivityCreated, event) },
    ],
  });
}

async function waitFor(pred: () => Promise<boolean>, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stats = async (user: SignedIn) => {
  const r = await s.app.inject({ method: 'GET', url: '/v1/users/me/stats', headers: user.auth });
  expect(r.statusCode).toBe(200);
  return r.json();
};

const fiveK = (durationS: number, startTs: number) => ({
  kind: 'distance',
  name: '5 km',
  distanceM: 5000,
  durationS,
  startTs,
  endTs: startTs + durationS * 1000,
  avgSpeedMps: 5000 / durationS,
  avgPowerW: null,
});

describe('GET /v1/users/me/stats', () => {
  test("periods in the athlete's zone and first day of the week; the cache follows activities.v1", async () => {
    const user = await s.user();
    await s.pool.query(`UPDATE users SET timezone = $2, week_start = 'sunday' WHERE id = $1`, [user.id, TZ]);
    const today = localDay(Date.now(), TZ);
    const weekFirst = weekStartOf(today, 0);
    const midnight = startOfLocalDay(weekFirst, TZ);
    // one minute either side of the local midnight that starts the week: the same UTC date, other weeks
    const inside: Row = {
      sport: 'running',
      startTs: midnight + 60_000,
      distanceM: 5000,
      movingS: 1500,
      elevGainM: 40,
      calories: 350,
      bestEfforts: [fiveK(1500, midnight + 60_000)],
    };
    const before: Row = {
      sport: 'cycling',
      startTs: midnight - 60_000,
      distanceM: 20_000,
      movingS: 2400,
      calories: 500,
    };
    const insideId = await insertActivity(user, inside);
    await insertActivity(user, before);

    const first = await stats(user);
    expect(first).toMatchObject({ timezone: TZ, week_start: 'sunday', today: isoDate(today) });
    expect(first.periods.week).toEqual({
      from: isoDate(weekFirst),
      to: isoDate(today),
      overall: {
        activities: 1,
        distance_m: 5000,
        moving_s: 1500,
        elev_gain_m: 40,
        calories: 350,
        avg_speed_mps: 5000 / 1500,
        avg_pace_s_per_km: 300,
      },
      by_sport: [
        {
          sport: 'running',
          activities: 1,
          distance_m: 5000,
          moving_s: 1500,
          elev_gain_m: 40,
          calories: 350,
          avg_speed_mps: 5000 / 1500,
          avg_pace_s_per_km: 300,
        },
      ],
    });
    // the last 4 weeks (28 days to today) hold both; the speed is over both distances and moving times
    expect(first.periods.last_4_weeks.from).toBe(isoDate(today - 27));
    expect(first.periods.last_4_weeks.overall).toMatchObject({
      activities: 2,
      distance_m: 25_000,
      moving_s: 3900,
      calories: 850,
      avg_speed_mps: 25_000 / 3900,
      avg_pace_s_per_km: 3900 / 25,
    });
    expect(first.periods.lifetime).toMatchObject({ from: null, to: null });
    expect(first.periods.lifetime.by_sport.map((x: { sport: string }) => x.sport)).toEqual([
      'cycling',
      'running',
    ]);
    expect(first.personal_bests).toEqual([
      {
        sport: 'running',
        kind: 'time',
        name: '5 km',
        distance_m: 5000,
        duration_s: 1500,
        avg_speed_mps: 5000 / 1500,
        avg_power_w: null,
        activity_id: insideId,
        start_time: new Date(midnight + 60_000).toISOString(),
        date: isoDate(weekFirst),
      },
    ]);

    // A faster 5 km stored, not yet announced: the cached figures stand (this is the cache answering) ...
    const faster: Row = {
      sport: 'running',
      startTs: midnight + 3_600_000,
      distanceM: 10_000,
      movingS: 2500,
      bestEfforts: [fiveK(1200, midnight + 3_600_000)],
    };
    const fasterId = await insertActivity(user, faster);
    expect((await stats(user)).periods.week.overall.activities).toBe(1);
    // ... until its ActivityCreated is processed: from then on, only the new figure.
    const processed = await invalidator.bumped();
    await announce(user, fasterId, faster);
    await waitFor(async () => (await invalidator.bumped()) > processed);
    for (let i = 0; i < 3; i++) {
      const now = await stats(user);
      expect(now.periods.week.overall).toMatchObject({ activities: 2, distance_m: 15_000, moving_s: 4000 });
      expect(now.personal_bests).toMatchObject([{ name: '5 km', duration_s: 1200, activity_id: fasterId }]);
    }
  }, 60_000);

  test('ride bests by speed and power, streaks from the engagement read model, a range of local dates', async () => {
    const user = await s.user();
    await s.pool.query(`UPDATE users SET timezone = 'UTC', week_start = 'monday' WHERE id = $1`, [user.id]);
    const effort = (
      name: string,
      durationS: number,
      distanceM: number,
      power: number | null,
      startTs: number,
    ) => ({
      kind: 'duration',
      name,
      distanceM,
      durationS,
      startTs,
      endTs: startTs + durationS * 1000,
      avgSpeedMps: distanceM / durationS,
      avgPowerW: power,
    });
    const t1 = Date.UTC(2025, 5, 1, 8);
    const t2 = Date.UTC(2025, 5, 8, 8);
    const fast = await insertActivity(user, {
      sport: 'cycling',
      startTs: t1,
      distanceM: 40_000,
      movingS: 3600,
      bestEfforts: [
        effort('5 s', 5, 80, 850, t1),
        effort('1 min', 60, 800, 400, t1),
        effort('5 min', 300, 3300, 210, t1),
        effort('60 min', 3600, 40_000, 180, t1),
      ],
    });
    const strong = await insertActivity(user, {
      sport: 'cycling',
      startTs: t2,
      distanceM: 30_000,
      movingS: 3600,
      bestEfforts: [
        effort('5 s', 5, 70, 1100, t2),
        effort('1 min', 60, 700, 380, t2),
        effort('5 min', 300, 3000, 320, t2),
        effort('60 min', 3600, 30_000, null, t2),
      ],
    });
    const today = localDay(Date.now(), 'UTC');
    await s.pool.query(
      `INSERT INTO streaks (user_id, kind, sport, last_length, last_start, last_end, longest_length, longest_start, longest_end)
       VALUES ($1, 'daily', '', 3, $2, $3, 9, '2025-06-01', '2025-06-09')`,
      [user.id, isoDate(today - 2), isoDate(today)],
    );
    const r = await s.app.inject({
      method: 'GET',
      url: `/v1/users/${user.id}/stats?from=2025-06-01&to=2025-06-07`,
      headers: user.auth,
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.periods.range.overall).toMatchObject({ activities: 1, distance_m: 40_000 });
    expect(
      body.personal_bests.map((b: Record<string, unknown>) => [
        b.kind,
        b.name,
        b.activity_id,
        b.kind === 'power' ? b.avg_power_w : b.avg_speed_mps,
      ]),
    ).toEqual([
      ['speed', '5 s', fast, 16],
      ['speed', '1 min', fast, 800 / 60],
      ['speed', '5 min', fast, 11],
      ['speed', '60 min', fast, 40_000 / 3600],
      ['power', '5 s', strong, 1100],
      ['power', '1 min', fast, 400],
      ['power', '5 min', strong, 320],
      ['power', '60 min', fast, 180],
    ]);
    expect(body.streaks.daily.overall).toEqual({
      current: { length: 3, start_date: isoDate(today - 2), end_date: isoDate(today) },
      longest: { length: 9, start_date: '2025-06-01', end_date: '2025-06-09' },
    });
    const bad = await s.app.inject({
      method: 'GET',
      url: '/v1/users/me/stats?from=2025-06-01',
      headers: user.auth,
    });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'validation_failed']);
  }, 60_000);
});
