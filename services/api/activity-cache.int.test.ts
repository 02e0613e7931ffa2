// The activity list, progress and detail reads cached in Redis under the athlete's generation
// (deps.activityGenerations, stats-cache.ts athleteRows): a read after an activities.v1 record of the athlete
// is processed gives the new rows, never the old ones; another athlete's record leaves the entry alone; the
// account's deletion moves the generation on.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { insertActivityRow } from '../../test/support/activity-rows.js';
import { type ApiStack, type SignedIn, startApiStack, TEST_PASSWORD } from '../../test/support/api-stack.js';
import { kafkaEnv, parseEnv } from '../common/config.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { activityOwnerKey } from './routes/activities.js';
import { StatsInvalidator, statsKeys } from './stats-cache.js';

let s: ApiStack;
let kafka: Kafka;
let producer: Producer;
let invalidator: StatsInvalidator;
const topic = `apitest.activities.${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  s = await startApiStack({ activityGenerations: true });
  kafka = new Kafka({
    clientId: `apitest-${s.run}`,
    brokers: parseEnv(kafkaEnv).KAFKA_BROKERS,
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  invalidator = new StatsInvalidator(kafka, s.redis, {
    topic,
    groupId: `apitest-activity-cache-${s.run}`,
    registry: createMetricsRegistry('activity_cache_test'),
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

/** An activities.v1 record of `user` (the invalidator reads the key only), then waits until it is processed. */
async function announce(user: SignedIn) {
  const before = await invalidator.bumped();
  await producer.send({ topic, acks: -1, messages: [{ key: user.id, value: 'any' }] });
  const until = Date.now() + 30_000;
  while ((await invalidator.bumped()) <= before) {
    if (Date.now() > until) throw new Error('the invalidator did not process the record');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const START = Date.UTC(2026, 5, 1, 8);
const row = (startTs: number, distanceM: number) => ({ sport: 'running', startTs, distanceM, movingS: 1800 });

describe('list and progress cached under the athlete generation', () => {
  test('a read after the event gives the new rows; before it, the cached ones; another athlete does not matter', async () => {
    const [athlete, other] = [await s.user(), await s.user()];
    const list = async () =>
      (await s.app.inject({ method: 'GET', url: '/v1/activities?limit=10', headers: athlete.auth })).json()
        .items as { activity_id: string; distance_m: number }[];
    const progress = async () =>
      (
        await s.app.inject({
          method: 'GET',
          url: '/v1/users/me/progress?metric=distance&period=month&from=2026-06-01&to=2026-06-30&window=1',
          headers: athlete.auth,
        })
      ).json().total as number;

    const first = await insertActivityRow(s.clickhouse, s.database, athlete.id, row(START, 5000));
    await announce(athlete);
    expect((await list()).map((a) => a.activity_id)).toEqual([first]);
    expect(await progress()).toBe(5000);

    // stored, but its event not processed yet: the cached rows stand (this is what the cache saves)
    const second = await insertActivityRow(
      s.clickhouse,
      s.database,
      athlete.id,
      row(START + 86_400_000, 7000),
    );
    expect((await list()).map((a) => a.activity_id)).toEqual([first]);
    expect(await progress()).toBe(5000);
    // another athlete's event bumps only their generation
    await announce(other);
    expect((await list()).map((a) => a.activity_id)).toEqual([first]);

    // the athlete's event processed: the new rows, at once
    await announce(athlete);
    expect((await list()).map((a) => a.activity_id)).toEqual([second, first]);
    expect(await progress()).toBe(12_000);
  }, 60_000);
});

describe('activity detail cached under the athlete generation', () => {
  test('a new version is served once its event is processed; the cache keeps the detail to whom may see it; deleting the account moves the generation on', async () => {
    const [athlete, outsider] = [await s.user(), await s.user()];
    const detail = async (who: SignedIn = athlete) =>
      s.app.inject({ method: 'GET', url: `/v1/activities/${id}`, headers: who.auth });
    const id = await insertActivityRow(s.clickhouse, s.database, athlete.id, {
      ...row(START, 5000),
      summary: { distanceM: 5000 },
    });
    await announce(athlete);
    // the first read finds the athlete (kept in Redis), the second fills the row's entry
    for (let i = 0; i < 2; i++) {
      const r = (await detail()).json();
      expect([r.status, r.version, r.summary]).toEqual(['ready', 1, { distance_m: 5000 }]);
    }
    expect(await s.redis.get(activityOwnerKey(id))).toBe(athlete.id);
    expect((await detail(outsider)).statusCode).toBe(404);

    // a second version stored, its event not processed yet: the cached row stands
    await insertActivityRow(s.clickhouse, s.database, athlete.id, {
      ...row(START, 5100),
      activityId: id,
      version: 2,
      summary: { distanceM: 5100 },
    });
    expect((await detail()).json().version).toBe(1);
    await announce(outsider);
    expect((await detail()).json().version).toBe(1);
    // the athlete's event processed: the new version at once, and the outsider still sees nothing
    await announce(athlete);
    const r = (await detail()).json();
    expect([r.version, r.summary]).toEqual([2, { distance_m: 5100 }]);
    expect((await detail(outsider)).statusCode).toBe(404);

    const generation = Number((await s.redis.get(statsKeys.generation(athlete.id))) ?? '0');
    const del = await s.app.inject({
      method: 'DELETE',
      url: '/v1/users/me',
      headers: athlete.auth,
      payload: { password: TEST_PASSWORD },
    });
    expect(del.statusCode).toBe(204);
    expect(Number(await s.redis.get(statsKeys.generation(athlete.id)))).toBe(generation + 1);
    expect((await detail(outsider)).statusCode).toBe(404);
  }, 60_000);
});
