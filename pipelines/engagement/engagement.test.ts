// Order invariance and idempotency of the whole read model: the same activity events in any order,
// with redeliveries and stale versions, give the same goals, streaks and challenge progress.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ActivityState, applyActivityEvents, liveActivities, supersedes } from './activities.js';
import { challengeProgress } from './challenges.js';
import { type GoalDefinition, goalProgress, goalStatus } from './goals.js';
import { parseIsoDate } from './local-days.js';
import { dailyStreak, milestonesReached, type StreakRules, weeklyStreak } from './streaks.js';

const D = (s: string) => parseIsoDate(s)!;
const BASE = D('2026-11-01');
const SPORTS = ['running', 'cycling'];

const event = fc.record({
  activityId: fc.constantFrom('a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'),
  version: fc.integer({ min: 1, max: 4 }),
  deleted: fc.boolean(),
  offset: fc.integer({ min: 0, max: 40 }),
  distanceM: fc.integer({ min: 0, max: 20_000 }),
  movingS: fc.integer({ min: 0, max: 7200 }),
  sport: fc.constantFrom(...SPORTS),
});

type Ev = typeof event extends fc.Arbitrary<infer T> ? T : never;

function toState(e: Ev): ActivityState {
  return {
    activityId: e.activityId,
    version: e.version,
    deleted: e.deleted,
    facts: e.deleted
      ? null
      : {
          sport: e.sport,
          startTs: (BASE + e.offset) * 86_400_000 + 3_600_000,
          day: BASE + e.offset,
          distanceM: e.distanceM,
          movingS: e.movingS,
          elevationM: e.distanceM / 100,
          calories: e.movingS / 6,
        },
  };
}

/** Two events of one activity at one version carry the same data (versions derive from the data). */
function consistent(events: Ev[]): Ev[] {
  const first = new Map<string, Ev>();
  return events.map((e) => {
    const k = `${e.activityId}/${e.version}/${e.deleted}`;
    const f = first.get(k);
    if (f) return f;
    first.set(k, e);
    return e;
  });
}

const RULES: StreakRules = { minDistanceM: 1000, minMovingS: 600, weeklyMinActivities: 2, weekStart: 1 };
const GOAL: GoalDefinition = {
  id: 'g',
  type: 'distance',
  sport: 'running',
  period: { kind: 'week', weekStart: 1 },
  target: 15_000,
  startsOn: BASE,
  endsOn: null,
};

function model(states: Map<string, ActivityState>) {
  const live = liveActivities(states.values());
  const today = BASE + 41;
  const counted = live.filter((a) => a.distanceM >= 1000 || a.movingS >= 600).map((a) => a.day);
  const daily = dailyStreak(counted, today);
  const weekly = weeklyStreak(counted, today, RULES);
  return {
    goal: goalProgress(GOAL, live),
    daily,
    weekly,
    milestones: [...milestonesReached('daily', daily.runs), ...milestonesReached('weekly', weekly.runs)],
    challenge: challengeProgress(
      {
        kind: 'activities_per_week',
        perPeriod: 2,
        target: 3,
        sport: null,
        minDistanceM: 0,
        minMovingS: 0,
      },
      { start: BASE, end: BASE + 27 },
      [1, 2, 3],
      live,
    ),
  };
}

describe('activity events', () => {
  it('the highest (version, deleted) wins', () => {
    const v = (version: number, deleted: boolean) => ({ version, deleted });
    expect(supersedes(v(2, false), v(1, true))).toBe(true);
    expect(supersedes(v(1, false), v(2, false))).toBe(false);
    expect(supersedes(v(2, true), v(2, false))).toBe(true);
    expect(supersedes(v(2, false), v(2, true))).toBe(false);
    expect(supersedes(v(2, false), v(2, false))).toBe(false);
    expect(supersedes(v(1, false), undefined)).toBe(true);
  });

  it('any order, with redeliveries and stale versions, gives the same state', () => {
    fc.assert(
      fc.property(
        fc.array(event, { minLength: 1, maxLength: 40 }).map(consistent),
        fc.func(fc.integer()),
        fc.array(fc.nat(), { maxLength: 20 }),
        (events, order, repeats) => {
          const states = events.map(toState);
          const inOrder = new Map<string, ActivityState>();
          applyActivityEvents(inOrder, states);
          const shuffled = states
            .map((s, i) => ({ s, k: order(i) }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.s);
          const redelivered = [...shuffled, ...repeats.map((r) => shuffled[r % shuffled.length]!)];
          const other = new Map<string, ActivityState>();
          // delivered in several batches, as Kafka does
          for (let i = 0; i < redelivered.length; i += 3)
            applyActivityEvents(other, redelivered.slice(i, i + 3));
          expect(other).toEqual(inOrder);
          expect(model(other)).toEqual(model(inOrder));
          // applying everything again changes nothing
          expect(applyActivityEvents(other, redelivered).size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('goal progress', () => {
  const act = (id: string, day: number, distanceM: number, sport = 'running') => ({
    activityId: id,
    sport,
    startTs: day * 86_400_000,
    day,
    distanceM,
    movingS: 600,
    elevationM: 0,
    calories: 0,
  });

  it('sums per period and names the activity that crossed the target', () => {
    const week = D('2026-11-30'); // a Monday
    const p = goalProgress(GOAL, [
      act('a', week, 5000),
      act('b', week + 1, 5000, 'cycling'),
      act('c', week + 2, 6000),
      act('d', week + 3, 6000),
      act('e', week + 7, 1000),
    ]);
    expect(p).toEqual([
      { start: week, end: week + 6, value: 17_000, activities: 3, crossedBy: 'd' },
      { start: week + 7, end: week + 13, value: 1000, activities: 1, crossedBy: null },
    ]);
  });

  it('ignores activities before the goal starts or after it ends', () => {
    const g = { ...GOAL, startsOn: D('2026-12-02'), endsOn: D('2026-12-03') };
    const p = goalProgress(g, [
      act('a', D('2026-12-01'), 9000),
      act('b', D('2026-12-02'), 1),
      act('c', D('2026-12-04'), 9000),
    ]);
    expect(p.map((x) => x.value)).toEqual([1]);
  });

  it('reads new -> on_track -> behind -> achieved, and missed once the period is over', () => {
    const period = { start: D('2026-11-30'), end: D('2026-12-06') };
    const s = (value: number, activities: number, day: number, second = 43_200) =>
      goalStatus(7000, period, { value, activities }, day, second);
    expect(s(0, 0, period.start).status).toBe('new');
    expect(s(1000, 1, period.start).status).toBe('on_track'); // pace line at 500
    expect(s(1000, 1, period.start + 3).status).toBe('behind'); // pace line at 3500
    expect(s(7000, 2, period.start + 3).status).toBe('achieved');
    expect(s(6999, 2, period.end + 1).status).toBe('missed');
    expect(s(0, 0, period.end + 1).status).toBe('missed');
    expect(s(3500, 1, period.start + 3)).toEqual({ status: 'on_track', expected: 3500, percent: 50 });
  });
});

describe('streaks', () => {
  it('current and longest daily streaks; yesterday keeps a streak alive', () => {
    const t = D('2026-12-01');
    const days = [t - 10, t - 9, t - 8, t - 7, t - 3, t - 2, t - 1];
    const s = dailyStreak([...days, t - 2], t);
    expect(s.current).toEqual({ length: 3, start: t - 3, end: t - 1 });
    expect(s.longest).toEqual({ length: 4, start: t - 10, end: t - 7 });
    expect(dailyStreak(days, t + 1).current).toBeNull();
  });

  it('weekly streaks count weeks with enough activities, from the athlete’s first day of the week', () => {
    const mon = D('2026-11-02');
    const days = [mon, mon + 6, mon + 7, mon + 8, mon + 14, mon + 20, mon + 21];
    const s = weeklyStreak(days, mon + 22, RULES);
    expect(s.longest).toEqual({ length: 3, start: mon, end: mon + 20 });
    // the 4th week has one activity so far: the streak is alive (last week counted), not longer
    expect(s.current).toEqual(s.longest);
    // weeks starting on Sunday split the same days differently
    const sunday = weeklyStreak(days, mon + 22, { ...RULES, weekStart: 0 });
    expect(sunday.longest!.length).toBeLessThan(3);
  });

  it('milestones once per streak start and length', () => {
    const t = D('2026-01-01');
    const run = Array.from({ length: 31 }, (_, i) => t + i);
    const s = dailyStreak(run, t + 31);
    expect(milestonesReached('daily', s.runs)).toEqual([
      { kind: 'daily', length: 7, startedOn: t, reachedOn: t + 6 },
      { kind: 'daily', length: 30, startedOn: t, reachedOn: t + 29 },
    ]);
    const weeks = Array.from({ length: 4 }, (_, i) => D('2026-11-02') + 7 * i);
    const w = weeklyStreak([...weeks, ...weeks.map((d) => d + 1)], D('2026-11-30'), RULES);
    expect(milestonesReached('weekly', w.runs)).toEqual([
      { kind: 'weekly', length: 4, startedOn: D('2026-11-02'), reachedOn: D('2026-11-23') },
    ]);
  });
});
