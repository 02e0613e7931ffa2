import { describe, expect, it } from 'vitest';
import type { GoalDefinition } from '../../pipelines/engagement/goals.js';
import { parseIsoDate } from '../../pipelines/engagement/local-days.js';
import { type ChallengeDef, type LiveActivity, recomputeUser, type UserModelInput } from './model.js';

const D = (s: string) => parseIsoDate(s)!;
const MON = D('2026-11-30');
const NOW = (MON + 2) * 86_400_000 + 12 * 3_600_000; // Wednesday noon UTC
const USER = '00000000-0000-4000-8000-000000000001';
const GOAL: GoalDefinition = {
  id: 'g1',
  type: 'distance',
  sport: null,
  period: { kind: 'week', weekStart: 1 },
  target: 10_000,
  startsOn: MON - 14,
  endsOn: null,
};
const act = (id: string, day: number, distanceM: number): LiveActivity => ({
  activityId: id,
  sport: 'running',
  startTs: day * 86_400_000 + 3_600_000,
  day,
  distanceM,
  movingS: 1800,
  elevationM: 0,
  calories: 0,
});
const CHALLENGE: ChallengeDef = {
  id: 'c1',
  rule: { kind: 'total_distance', perPeriod: 0, target: 15_000, sport: null, minDistanceM: 0, minMovingS: 0 },
  start: MON,
  end: MON + 13,
  closed: false,
  milestones: [5000, 15_000],
  timezone: null,
};
const input = (o: Partial<UserModelInput>): UserModelInput => ({
  userId: USER,
  timezone: 'UTC',
  weekStart: 1,
  activities: [],
  goals: [GOAL],
  stored: new Map(),
  challenges: [],
  streakRules: { minDistanceM: 0, minMovingS: 0, weeklyMinActivities: 1 },
  nowMs: NOW,
  ...o,
});

describe('recomputeUser', () => {
  it('achieves once, revokes when the period falls below target, achieves again as the next achievement', () => {
    const first = recomputeUser(input({ activities: [act('a', MON, 6000), act('b', MON + 1, 5000)] }));
    expect(first.facts.filter((f) => f.record === 'GoalAchieved').map((f) => f.factKey)).toEqual([
      'goal:g1:2026-11-30:achieved:1',
    ]);
    const stored = new Map([['g1', new Map([[MON, { achieved: true, achievements: 1 }]])]]);
    // the same activities again: nothing new to say about the goal
    const again = recomputeUser(
      input({ activities: [act('a', MON, 6000), act('b', MON + 1, 5000)], stored }),
    );
    expect(again.facts.filter((f) => f.record.startsWith('Goal'))).toEqual([]);
    const dropped = recomputeUser(input({ activities: [act('a', MON, 6000)], stored }));
    expect(dropped.facts.map((f) => f.factKey)).toContain('goal:g1:2026-11-30:revoked:1');
    expect(dropped.goalPeriods).toEqual([
      {
        goalId: 'g1',
        start: MON,
        end: MON + 6,
        value: 6000,
        activities: 1,
        achieved: false,
        achievements: 1,
        crossedBy: null,
      },
    ]);
    // every activity of the period gone: the row stays (it keeps the count), value 0, revoked
    const empty = recomputeUser(input({ activities: [], stored }));
    expect(empty.goalPeriods[0]).toMatchObject({ value: 0, achieved: false, achievements: 1 });
    expect(empty.facts.map((f) => f.factKey)).toContain('goal:g1:2026-11-30:revoked:1');
    const back = recomputeUser(
      input({
        activities: [act('a', MON, 6000), act('c', MON + 2, 9000)],
        stored: new Map([['g1', new Map([[MON, { achieved: false, achievements: 1 }]])]]),
      }),
    );
    const achieved = back.facts.find((f) => f.record === 'GoalAchieved');
    expect(achieved?.factKey).toBe('goal:g1:2026-11-30:achieved:2');
    expect(achieved?.payload).toMatchObject({ achievement: 2, activityId: 'c', periodEndDate: '2026-12-06' });
  });

  it('records challenge progress only for a joined athlete, and only once the window started', () => {
    const acts = [act('a', MON, 6000), act('b', MON + 1, 9000)];
    const participant = {
      challengeId: 'c1',
      state: 'joined' as const,
      value: 0,
      milestones: [],
      forced: false,
    };
    const joined = recomputeUser(input({ activities: acts, challenges: [{ def: CHALLENGE, participant }] }));
    expect(joined.participants).toEqual([
      { ...participant, state: 'completed', value: 15_000, milestones: [5000, 15_000] },
    ]);
    expect(joined.facts.filter((f) => f.record === 'ChallengeProgressed').map((f) => f.factKey)).toEqual([
      `challenge:c1:${USER}:milestone:5000`,
      `challenge:c1:${USER}:milestone:15000`,
      `challenge:c1:${USER}:completed`,
    ]);
    const unjoined = recomputeUser(
      input({
        activities: acts,
        challenges: [{ def: CHALLENGE, participant: { ...participant, state: 'unjoined' } }],
      }),
    );
    expect([unjoined.participants, unjoined.facts.filter((f) => f.record === 'ChallengeProgressed')]).toEqual(
      [[], []],
    );
    const later = { ...CHALLENGE, start: MON + 7, end: MON + 20 };
    const early = recomputeUser(input({ activities: acts, challenges: [{ def: later, participant }] }));
    expect(early.participants).toEqual([]);
  });

  it('a forced completion is announced as forced', () => {
    const participant = {
      challengeId: 'c1',
      state: 'completed' as const,
      value: 0,
      milestones: [],
      forced: true,
    };
    const out = recomputeUser(input({ challenges: [{ def: CHALLENGE, participant }] }));
    expect(out.facts.find((f) => f.record === 'ChallengeProgressed')?.payload).toMatchObject({
      kind: 'completed',
      forced: true,
    });
  });
});
