// Points rules and leaderboards against the real stack (issue 15): the points SQL equals the TypeScript
// rule; a rule change recomputes all history and the board switches only once it is complete; group
// boards with teams of different sizes; the caller's own rank outside the top; a new activity and a
// deleted one move the board through the activities.v1 consumer; the SSE stream pushes the rank change.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { activityPoints, type PointsRules } from '../../pipelines/points/rules.js';
import { insertActivityRow } from '../../test/support/activity-rows.js';
import { type ApiStack, openStream, type SignedIn, startApiStack } from '../../test/support/api-stack.js';
import { kafkaEnv, parseEnv } from '../common/config.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { PointsConsumer, PointsStore, pointsKeys, pointsSql } from './points-store.js';

let s: ApiStack;
let points: PointsStore;
let kafka: Kafka;
let producer: Producer;
let consumer: PointsConsumer;
const topic = `apitest.points.${randomUUID().slice(0, 8)}`;

const rules = (walkingPerKm: number, cyclingPerKm: number): PointsRules => ({
  sports: [
    {
      sport: 'walking',
      per_km: walkingPerKm,
      per_minute: 0,
      per_activity: 0,
      min_distance_m: 500,
      min_moving_s: 0,
      max_points: 1000,
    },
    {
      sport: 'cycling',
      per_km: cyclingPerKm,
      per_minute: 0,
      per_activity: 0,
      min_distance_m: 1000,
      min_moving_s: 0,
    },
    {
      sport: 'strength',
      per_km: 0,
      per_minute: 1.5,
      per_activity: 0,
      min_distance_m: 0,
      min_moving_s: 600,
      max_points: 120,
    },
  ],
});

beforeAll(async () => {
  s = await startApiStack({ privatePg: true });
  points = new PointsStore(s.pool, s.clickhouse, s.database, s.redis, createMetricsRegistry('points_test'));
  const env = parseEnv(kafkaEnv);
  kafka = new Kafka({
    clientId: `apitest-points-${s.run}`,
    brokers: env.KAFKA_BROKERS,
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await consumer?.stop();
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  await s?.close();
});

const now = () => Date.now() - 60_000;
const activity = (u: SignedIn, sport: string, distanceM: number, movingS = 3600, startTs = now()) =>
  insertActivityRow(s.clickhouse, s.database, u.id, { sport, startTs, distanceM, movingS });

async function group(members: SignedIn[], name = 'team'): Promise<string> {
  const g = await s.pool.query<{ id: string }>(
    `INSERT INTO groups (name, kind, join_code) VALUES ($1, 'team', $2) RETURNING id`,
    [name, randomUUID()],
  );
  const id = g.rows[0]!.id;
  for (const m of members)
    await s.pool.query(`INSERT INTO group_members (group_id, user_id, role) VALUES ($1, $2, 'member')`, [
      id,
      m.id,
    ]);
  return id;
}

const board = async (u: SignedIn, query: string) => {
  const r = await s.app.inject({ method: 'GET', url: `/v1/leaderboards?${query}`, headers: u.auth });
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};

async function waitFor(pred: () => Promise<boolean>, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('points rules', () => {
  test('the ClickHouse expression gives what activityPoints gives, to the bit', async () => {
    const r = rules(12.5, 3.1);
    r.sports[1]!.per_activity = 2.25;
    r.sports[1]!.per_minute = 0.1;
    const cases: [string, number, number][] = [];
    for (let i = 0; i < 300; i++)
      cases.push([
        ['walking', 'cycling', 'strength', 'running'][i % 4]!,
        Math.round(Math.random() * 90_000 * 1000) / 1000,
        Math.round(Math.random() * 20_000 * 10) / 10,
      ]);
    cases.push(['walking', 500, 0], ['walking', 499.999, 0], ['strength', 0, 600], ['strength', 0, 599.9]);
    const tuples = cases.map(([sp, d, m]) => `tuple('${sp}', toFloat64(${d}), toFloat64(${m}))`).join(', ');
    const rs = await s.clickhouse.query({
      query: `SELECT sport, distance_m, moving_s, ${pointsSql(r)} AS points FROM (
                SELECT t.1 AS sport, t.2 AS distance_m, t.3 AS moving_s FROM (SELECT arrayJoin([${tuples}]) AS t))`,
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ sport: string; distance_m: number; moving_s: number; points: number }>();
    expect(rows).toHaveLength(cases.length);
    for (const row of rows) expect([row.sport, row.points]).toEqual([row.sport, activityPoints(r, row)]);
    expect(rows.some((x) => x.points > 0)).toBe(true);
  });

  test('a rule change recomputes all history; the board switches once it is complete; twice gives the same', async () => {
    const [walker, cyclist] = [await s.user({ name: 'Walker' }), await s.user({ name: 'Cyclist' })];
    const g = await group([walker, cyclist]);
    await activity(walker, 'walking', 10_000); // 120 under v1, 100 under v2
    await activity(cyclist, 'cycling', 30_000); // 90 under v1, 150 under v2
    // an old activity: the recompute covers all history, not just the boards' periods
    const oldId = await activity(walker, 'walking', 5000, 3600, Date.parse('2024-03-01T08:00:00Z'));
    const v1 = await points.publish(rules(12, 3), 'v1', walker.id);
    expect((await points.recompute(v1.version))?.activities).toBe(3);
    const b1 = await board(walker, `period=week&group_id=${g}`);
    expect(b1.rules_version).toBe(v1.version);
    expect(b1.entries.map((e: { name: string; points: number }) => [e.name, e.points])).toEqual([
      ['Walker', 120],
      ['Cyclist', 90],
    ]);

    const v2 = await points.publish(rules(10, 5), 'cycling worth more', walker.id);
    // published, not computed: readers still rank by v1
    const before = await board(cyclist, `period=week&group_id=${g}`);
    expect(before.rules_version).toBe(v1.version);
    expect(before.entries[0].name).toBe('Walker');
    const done = await points.recompute(v2.version);
    expect(done?.version).toBe(v2.version);
    const after = await board(cyclist, `period=week&group_id=${g}`);
    expect(after.rules_version).toBe(v2.version);
    expect(
      after.entries.map((e: { name: string; points: number; rank: number }) => [e.rank, e.name, e.points]),
    ).toEqual([
      [1, 'Cyclist', 150],
      [2, 'Walker', 100],
    ]);
    const all = await s.clickhouse.query({
      query: `SELECT activity_id, argMax(points, computed_at) AS p FROM ${s.database}.activity_points
              WHERE rules_version = ${v2.version} GROUP BY activity_id ORDER BY activity_id`,
      format: 'JSONEachRow',
    });
    const first = await all.json<{ activity_id: string; p: number }>();
    expect(first.find((x) => x.activity_id === oldId)?.p).toBe(50);
    // recomputing the same state again writes the same points
    await points.refreshUsers([walker.id, cyclist.id]);
    const again = await s.clickhouse.query({
      query: `SELECT activity_id, argMax(points, computed_at) AS p FROM ${s.database}.activity_points
              WHERE rules_version = ${v2.version} GROUP BY activity_id ORDER BY activity_id`,
      format: 'JSONEachRow',
    });
    expect(await again.json()).toEqual(first);
    expect(await board(cyclist, `period=week&group_id=${g}`)).toEqual(after);
  });

  test('POST /v1/points-rules: admins publish (audited), others get 403; GET shows it served once computed', async () => {
    const [admin, athlete] = [await s.user({ roles: ['admin'] }), await s.user()];
    const body = { ...rules(12, 3), note: 'back to walking' };
    const denied = await s.app.inject({
      method: 'POST',
      url: '/v1/points-rules',
      headers: athlete.auth,
      payload: body,
    });
    expect(denied.statusCode).toBe(403);
    const headers = { ...admin.auth, 'idempotency-key': randomUUID() };
    const r = await s.app.inject({ method: 'POST', url: '/v1/points-rules', headers, payload: body });
    expect(r.statusCode, r.body).toBe(201);
    const retry = await s.app.inject({ method: 'POST', url: '/v1/points-rules', headers, payload: body });
    expect(retry.json().version).toBe(r.json().version);
    const bad = await s.app.inject({
      method: 'POST',
      url: '/v1/points-rules',
      headers: admin.auth,
      payload: { sports: [rules(1, 1).sports[0], rules(2, 2).sports[0]] },
    });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'validation_failed']);
    await waitFor(async () => {
      const g = await s.app.inject({ method: 'GET', url: '/v1/points-rules', headers: athlete.auth });
      return g.json().current?.version === r.json().version;
    });
    const g = (await s.app.inject({ method: 'GET', url: '/v1/points-rules', headers: athlete.auth })).json();
    expect(g.latest_version).toBe(r.json().version);
    expect(g.versions[0].sports).toEqual(rules(12, 3).sports);
    const audit = await s.pool.query(
      `SELECT status FROM audit_log WHERE action = 'points_rules.publish' AND actor_id = $1`,
      [admin.id],
    );
    expect(audit.rows.length).toBeGreaterThanOrEqual(1);
  });
});

describe('leaderboards', () => {
  test('concurrent misses of one board share one computation; a generation bump starts a new one', async () => {
    let runs = 0;
    const compute = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 100));
      return { runs };
    };
    const parts = ['single-flight', Math.random()];
    const first = await Promise.all(Array.from({ length: 20 }, () => points.cached(parts, compute)));
    expect(runs).toBe(1);
    expect(first.every((v) => v.runs === 1)).toBe(true);
    // cached now: no computation at all, and in this process the very value (frozen: callers share it)
    const again = await points.cached(parts, compute);
    expect(again).toEqual({ runs: 1 });
    expect(again).toBe(first[0]);
    expect(Object.isFrozen(again)).toBe(true);
    expect(runs).toBe(1);
    // another process (a store of its own) reads it from Redis, parsed once and kept
    const other = new PointsStore(s.pool, s.clickhouse, points.store, s.redis);
    const fromRedis = await other.cached(parts, compute);
    expect(fromRedis).toEqual({ runs: 1 });
    expect(fromRedis).not.toBe(first[0]);
    expect(await other.cached(parts, compute)).toBe(fromRedis);
    expect(runs).toBe(1);
    // a new generation (an activity's points changed) misses, and computes once for all its callers
    await s.redis.incr(pointsKeys.generation(points.store));
    const second = await Promise.all(Array.from({ length: 5 }, () => points.cached(parts, compute)));
    expect(runs).toBe(2);
    expect(second.every((v) => v.runs === 2)).toBe(true);
    // the other process sees the bump too: the generation is read on every call
    expect(await other.cached(parts, compute)).toEqual({ runs: 2 });
  });

  test('group boards: sum and per-member average with teams of different sizes; company total', async () => {
    const solo = await s.user({ name: 'Solo' });
    const trio = [await s.user(), await s.user(), await s.user()];
    const gSolo = await group([solo], 'Solo team');
    const gTrio = await group(trio, 'Trio team');
    await activity(solo, 'walking', 10_000); // 120 under rules(12, 3)
    await activity(trio[0]!, 'walking', 5000); // 60
    await activity(trio[1]!, 'cycling', 30_000); // 90
    await activity(trio[2]!, 'strength', 0, 1800); // 45
    await points.refreshUsers([solo.id, ...trio.map((t) => t.id)]);
    const version = await points.requireCurrent();
    expect((await points.rulesOf(version)).sports[0]!.per_km).toBe(12);

    const bySum = await board(solo, 'period=week&by=group&limit=100');
    const pick = (b: { entries: { group_id: string; rank: number }[] }, id: string) =>
      b.entries.find((e) => e.group_id === id);
    expect(pick(bySum, gTrio)).toMatchObject({ members: 3, points: 195, avg_points: 65, activities: 3 });
    expect(pick(bySum, gSolo)).toMatchObject({ members: 1, points: 120, avg_points: 120, activities: 1 });
    expect(pick(bySum, gTrio)!.rank).toBeLessThan(pick(bySum, gSolo)!.rank);
    const byAvg = await board(solo, 'period=week&by=group&rank_by=average&limit=100');
    expect(pick(byAvg, gSolo)!.rank).toBeLessThan(pick(byAvg, gTrio)!.rank);
    expect(byAvg.mine.map((e: { group_id: string }) => e.group_id)).toEqual([gSolo]);
    // the company: every activity of the period in this store, whoever's
    const rows = await s.clickhouse.query({
      query: `SELECT count() AS n FROM ${s.database}.activities FINAL WHERE start_ts >= ${Date.parse(bySum.from)} AND start_ts < ${Date.parse(bySum.to)}`,
      format: 'JSONEachRow',
    });
    expect(bySum.company_total.activities).toBe(Number((await rows.json<{ n: string }>())[0]!.n));
    expect(bySum.company_total.points).toBeGreaterThanOrEqual(315);
    // by sport, over the caller's groups' people
    const bySport = await board(trio[0]!, 'period=week&by=sport');
    expect(bySport.entries.map((e: { sport: string; points: number }) => [e.sport, e.points])).toEqual([
      ['cycling', 90],
      ['walking', 60],
      ['strength', 45],
    ]);
  });

  test("the caller's own rank outside the top N; a group or challenge that is not theirs is 404", async () => {
    const people = [await s.user(), await s.user(), await s.user(), await s.user(), await s.user()];
    const g = await group(people);
    for (const [i, p] of people.entries()) await activity(p, 'walking', 1000 * (5 - i)); // 60, 48, 36, 24, 12
    await points.refreshUsers(people.map((p) => p.id));
    const last = people[4]!;
    const b = await board(last, `period=month&group_id=${g}&limit=2`);
    expect(b.entries.map((e: { rank: number }) => e.rank)).toEqual([1, 2]);
    expect(b.mine).toEqual([
      expect.objectContaining({ rank: 5, user_id: last.id, points: 12, activities: 1 }),
    ]);
    expect(b.board_total).toEqual({ points: 180, distance_m: 15_000, activities: 5, athletes: 5 });

    const stranger = await s.user();
    const r = await s.app.inject({
      method: 'GET',
      url: `/v1/leaderboards?period=week&group_id=${g}`,
      headers: stranger.auth,
    });
    expect([r.statusCode, r.json().code]).toEqual([404, 'not_found']);
    const c = await s.app.inject({
      method: 'GET',
      url: `/v1/leaderboards?period=challenge:${randomUUID()}`,
      headers: stranger.auth,
    });
    expect([c.statusCode, c.json().code]).toEqual([404, 'challenge_not_found']);
  });

  test('a new activity moves its athlete within seconds (SSE too); a deleted one leaves points and ranks', async () => {
    consumer = new PointsConsumer(kafka, points, { topic, groupId: `apitest-points-${s.run}` });
    await consumer.start();
    const [a, b] = [await s.user({ name: 'A' }), await s.user({ name: 'B' })];
    const g = await group([a, b]);
    await activity(a, 'walking', 5000); // 60
    await activity(b, 'walking', 4000); // 48
    await points.refreshUsers([a.id, b.id]);
    const announce = (u: SignedIn) =>
      // the consumer reads only the key (the athlete): any activities.v1 record rewrites their points
      producer.send({
        topic,
        messages: [{ key: u.id, value: JSON.stringify({ test: 'activity changed' }) }],
      });

    const t = await s.app.inject({ method: 'POST', url: '/v1/live/tickets', headers: b.auth });
    const stream = await openStream(
      `${s.baseUrl}/v1/leaderboards/stream?period=week&group_id=${g}&ticket=${t.json().ticket}`,
      {},
    );
    expect(stream.status).toBe(200);
    onTestFinished(() => stream.close());
    await waitFor(async () => stream.text().includes('event: board'));
    const first = JSON.parse(stream.text().split('event: board\ndata: ')[1]!.split('\n')[0]!);
    expect(first.mine).toEqual([expect.objectContaining({ user_id: b.id, rank: 2, points: 48 })]);

    const refreshed = await points.refreshed();
    const id = await activity(b, 'cycling', 20_000); // +60 → 108
    const t0 = Date.now();
    await announce(b);
    await waitFor(async () => stream.text().includes('event: ranks'));
    const movedMs = Date.now() - t0;
    expect(movedMs).toBeLessThan(10_000);
    const event = stream.text().split('event: ranks\ndata: ')[1]!.split('\n')[0]!;
    const ranks = JSON.parse(event);
    expect(ranks.changes).toContainEqual({ key: b.id, rank: 1, previous_rank: 2, points: 108 });
    expect(ranks.board.entries[0]).toMatchObject({ user_id: b.id, points: 108 });
    expect(await points.refreshed()).toBeGreaterThan(refreshed);
    expect((await board(a, `period=week&group_id=${g}`)).entries[0].user_id).toBe(b.id);

    // deleted: its rows leave activities (as DELETE /v1/activities/{id} purges them), then its event
    await s.clickhouse.command({
      query: `ALTER TABLE ${s.database}.activities DELETE WHERE activity_id = '${id}'`,
    });
    await waitFor(async () => {
      const r = await s.clickhouse.query({
        query: `SELECT count() AS n FROM ${s.database}.activities WHERE activity_id = '${id}'`,
        format: 'JSONEachRow',
      });
      return Number((await r.json<{ n: string }>())[0]!.n) === 0;
    });
    await announce(b);
    await waitFor(async () => (await board(a, `period=week&group_id=${g}`)).entries[0].user_id === a.id);
    const after = await board(a, `period=week&group_id=${g}`);
    expect(
      after.entries.map((e: { name: string; points: number; activities: number }) => [
        e.name,
        e.points,
        e.activities,
      ]),
    ).toEqual([
      ['A', 60, 1],
      ['B', 48, 1],
    ]);
    await waitFor(async () => stream.text().split('event: ranks').length === 3);
    stream.close();
  }, 60_000);
});
