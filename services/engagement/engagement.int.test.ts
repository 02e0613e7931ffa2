// The engagement service against the real Kafka, schema registry and PostgreSQL: goals, a late
// upload, a deletion that revokes an achievement, a 7-day streak, a challenge, redelivery, and two
// replicas publishing each fact once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isoDate, localDay } from '../../pipelines/engagement/local-days.js';
import { weekStartOf } from '../../pipelines/engagement/periods.js';
import {
  activity,
  deletion,
  type EngagementStack,
  engagementStack,
} from '../../test/support/engagement-stack.js';
import { createLogger } from '../common/logger.js';
import { type RunningEngagement, startEngagement } from './app.js';

const logger = createLogger('engagement-test', 'warn');
const DAY = 86_400_000;

async function until<T>(f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('engagement service', () => {
  let stack: EngagementStack;
  const running: RunningEngagement[] = [];

  beforeEach(async () => {
    stack = await engagementStack();
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.close();
    await stack.cleanup();
  });

  async function start(): Promise<RunningEngagement> {
    const r = await startEngagement(stack.config, logger);
    running.push(r);
    return r;
  }

  const periods = async (goalId: string) =>
    (
      await stack.db.pool.query<{ start: string; value: number; achieved: boolean; achievements: number }>(
        `SELECT period_start::text AS start, value, achieved, achievements FROM goal_periods
         WHERE goal_id = $1 ORDER BY period_start`,
        [goalId],
      )
    ).rows;

  it('a weekly goal is achieved once, a late upload completes last week, a deletion revokes', async () => {
    const user = await stack.user();
    const now = Date.now();
    const today = localDay(now, 'UTC');
    const monday = weekStartOf(today, 1);
    const goal = await stack.db.pool.query<{ id: string }>(
      `INSERT INTO goals (user_id, kind, period, target, starts_on)
       VALUES ($1, 'distance', 'week', 10000, $2::date) RETURNING id`,
      [user, isoDate(monday - 14)],
    );
    const goalId = goal.rows[0]!.id;
    await start();
    // this week: 4 km, then 7 km -> achieved (11 km)
    const at = (day: number) => day * DAY + 6 * 3_600_000;
    const a1 = activity(user, at(monday), { distanceM: 4000 });
    await stack.send([{ name: 'ActivityCreated', value: a1 }]);
    await until(async () => ((await periods(goalId))[0]?.value === 4000 ? true : undefined));
    const a2 = activity(user, at(monday) + 3_600_000, { distanceM: 7000 });
    await stack.send([{ name: 'ActivityCreated', value: a2 }]);
    await stack.waitForGoals((r) => r.some((x) => x.name === 'GoalAchieved'));
    // redelivery of both, and an older version of a2: nothing moves
    await stack.send([
      { name: 'ActivityCreated', value: a1 },
      { name: 'ActivityCreated', value: a2 },
      {
        name: 'ActivityUpdated',
        value: { ...a2, version: a2.version - 1, distanceM: 1, reason: 'late_data' },
      },
    ]);
    // last week, late: 10 km in one go completes that week
    const late = activity(user, at(monday - 5), { distanceM: 10_000 });
    await stack.send([{ name: 'ActivityCreated', value: late }]);
    await stack.waitForGoals((r) => r.filter((x) => x.name === 'GoalAchieved').length === 2);
    // deleting a2 drops this week to 4 km: revoked
    await stack.send([{ name: 'ActivityDeleted', value: deletion(a2) }]);
    const records = await stack.waitForGoals((r) => r.some((x) => x.name === 'GoalAchievementRevoked'));
    await new Promise((r) => setTimeout(r, 1500)); // give duplicates, if any, time to show up
    const achieved = stack.goals().filter((x) => x.name === 'GoalAchieved');
    expect(achieved.map((x) => [x.value.periodStartDate, x.value.achievement, x.value.activityId])).toEqual([
      [isoDate(monday), 1, a2.activityId],
      [isoDate(monday - 7), 1, late.activityId],
    ]);
    expect(achieved[0]!.key).toBe(user);
    const revoked = records.filter((x) => x.name === 'GoalAchievementRevoked');
    expect(revoked.map((x) => [x.value.periodStartDate, x.value.achievement, x.value.value])).toEqual([
      [isoDate(monday), 1, 4000],
    ]);
    expect(await periods(goalId)).toEqual([
      { start: isoDate(monday - 7), value: 10_000, achieved: true, achievements: 1 },
      { start: isoDate(monday), value: 4000, achieved: false, achievements: 1 },
    ]);
    // a2 back at a higher version: achieved again, as achievement 2
    await stack.send([
      { name: 'ActivityUpdated', value: { ...a2, version: a2.version + 1, reason: 'edit' } },
    ]);
    await stack.waitForGoals((r) => r.some((x) => x.name === 'GoalAchieved' && x.value.achievement === 2));
  });

  it('a 7-day streak publishes its milestone once; a challenge goes through its milestones to completion', async () => {
    const user = await stack.user({ timezone: 'Pacific/Kiritimati' });
    const now = Date.now();
    const today = localDay(now, 'Pacific/Kiritimati');
    const challenge = await stack.db.pool.query<{ id: string }>(
      `INSERT INTO challenges (name, rule_kind, per_period, target, milestones, start_date, end_date)
       VALUES ('3 a day for 3 days', 'distance_per_day', 3000, 3, '{1,2,3}', $1::date, $2::date) RETURNING id`,
      [isoDate(today - 6), isoDate(today + 7)],
    );
    const cid = challenge.rows[0]!.id;
    await stack.db.pool.query(
      `INSERT INTO challenge_participants (challenge_id, user_id, state, joined_at) VALUES ($1, $2, 'joined', now())`,
      [cid, user],
    );
    await start();
    // seven local days ending today; each activity at 09:00 local (Kiritimati is UTC+14)
    const acts = Array.from({ length: 7 }, (_, i) =>
      activity(user, (today - 6 + i) * DAY + 9 * 3_600_000 - 14 * 3_600_000),
    );
    for (const a of acts) await stack.send([{ name: 'ActivityCreated', value: a }]);
    await stack.send(acts.map((a) => ({ name: 'ActivityCreated' as const, value: a }))); // redelivered
    const records = await stack.waitForGoals(
      (r) =>
        r.some((x) => x.name === 'StreakMilestone' && x.value.sport === null) &&
        r.some((x) => x.name === 'ChallengeProgressed' && x.value.kind === 'completed'),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const milestones = stack.goals().filter((x) => x.name === 'StreakMilestone');
    expect(
      milestones.map((x) => [x.value.streakKind, x.value.sport, x.value.length, x.value.startedOn]),
    ).toEqual([
      ['daily', null, 7, isoDate(today - 6)],
      ['daily', 'running', 7, isoDate(today - 6)],
    ]);
    const progressed = stack.goals().filter((x) => x.name === 'ChallengeProgressed');
    expect(progressed.map((x) => [x.value.kind, x.value.milestone])).toEqual([
      ['milestone', 1],
      ['milestone', 2],
      ['milestone', 3],
      ['completed', null],
    ]);
    expect(records.length).toBeGreaterThan(0);
    const p = await stack.db.pool.query(
      'SELECT state, value, milestones FROM challenge_participants WHERE user_id = $1',
      [user],
    );
    expect(p.rows).toEqual([{ state: 'completed', value: 7, milestones: [1, 2, 3] }]);
    const s = await stack.db.pool.query(
      `SELECT kind, sport, last_length, last_end::text AS last_end FROM streaks WHERE user_id = $1 ORDER BY kind, sport`,
      [user],
    );
    expect(s.rows).toEqual([
      { kind: 'daily', sport: '', last_length: 7, last_end: isoDate(today) },
      { kind: 'daily', sport: 'running', last_length: 7, last_end: isoDate(today) },
      { kind: 'weekly', sport: '', last_length: s.rows[2].last_length, last_end: s.rows[2].last_end },
      { kind: 'weekly', sport: 'running', last_length: s.rows[2].last_length, last_end: s.rows[2].last_end },
    ]);
  });

  it('two replicas in one group publish every fact exactly once, also when one stops mid-way', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => stack.user()));
    const today = localDay(Date.now(), 'UTC');
    await start();
    const second = await start();
    // 7 days for each athlete: 12 daily and 12 running milestones of 7 days
    const acts = users.flatMap((u) =>
      Array.from({ length: 7 }, (_, i) => activity(u, (today - 6 + i) * DAY + 3_600_000)),
    );
    await stack.send(acts.slice(0, 40).map((value) => ({ name: 'ActivityCreated' as const, value })));
    await new Promise((r) => setTimeout(r, 500));
    await second.close();
    running.splice(running.indexOf(second), 1);
    await stack.send(acts.slice(40).map((value) => ({ name: 'ActivityCreated' as const, value })));
    await stack.send(acts.map((value) => ({ name: 'ActivityCreated' as const, value })));
    await stack.waitForGoals((r) => r.filter((x) => x.name === 'StreakMilestone').length >= 24, 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    const ms = stack.goals().filter((x) => x.name === 'StreakMilestone');
    const keys = ms.map((x) => `${x.value.userId}/${x.value.sport}/${x.value.length}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(24);
    const outbox = await stack.db.pool.query<{ n: string; u: string }>(
      'SELECT count(*) AS n, count(*) FILTER (WHERE published_at IS NULL) AS u FROM engagement_outbox',
    );
    expect(outbox.rows[0]).toEqual({ n: '24', u: '0' });
  });
});
