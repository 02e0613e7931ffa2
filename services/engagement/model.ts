// The engagement read model of one athlete, recomputed from their live activities: goal periods,
// streaks and challenge progress, plus the facts (goals.v1 records) the change produces. Pure, so
// the service's transaction only loads, calls this and stores; and because every output is a
// function of the set of activities (never of the event that arrived), redeliveries and any order
// give the same state, and each fact has a natural key that the outbox dedupes on.
import type { ActivityFacts } from '../../pipelines/engagement/activities.js';
import {
  type ChallengeRule,
  challengeProgress,
  type ParticipantState,
  transition,
} from '../../pipelines/engagement/challenges.js';
import { type GoalDefinition, goalProgress } from '../../pipelines/engagement/goals.js';
import { type Day, isoDate, localDay, startOfLocalDay } from '../../pipelines/engagement/local-days.js';
import { periodOf, weekStartOf } from '../../pipelines/engagement/periods.js';
import {
  dailyStreak,
  milestonesReached,
  qualifies,
  STREAK_KINDS,
  type StreakRules,
  type StreakSpan,
  weeklyStreak,
} from '../../pipelines/engagement/streaks.js';
import type { AvroRecords } from '../../schemas/types.js';

export type LiveActivity = ActivityFacts & { activityId: string };

export type FactRecord =
  | 'GoalAchieved'
  | 'GoalAchievementRevoked'
  | 'StreakMilestone'
  | 'ChallengeProgressed';

/** One goals.v1 record to publish, identified by the fact it announces. */
export type Fact = {
  [R in FactRecord]: { factKey: string; record: R; key: string; payload: AvroRecords[R] };
}[FactRecord];

export interface StoredGoalPeriod {
  achieved: boolean;
  achievements: number;
}

export interface GoalPeriodRow {
  goalId: string;
  start: Day;
  end: Day;
  value: number;
  activities: number;
  achieved: boolean;
  achievements: number;
  crossedBy: string | null;
}

export interface StreakRow {
  kind: 'daily' | 'weekly';
  /** '' = every sport */
  sport: string;
  last: StreakSpan;
  longest: StreakSpan;
}

export interface ChallengeDef {
  id: string;
  rule: ChallengeRule;
  start: Day;
  end: Day;
  closed: boolean;
  milestones: number[];
  /** null: the athlete's own zone */
  timezone: string | null;
}

export interface ParticipantRow {
  challengeId: string;
  state: ParticipantState;
  value: number;
  milestones: number[];
  /** completed by support */
  forced: boolean;
}

export interface UserModelInput {
  userId: string;
  /** the athlete's zone now (for "today" and period start instants) */
  timezone: string;
  weekStart: number;
  /** live activities in canonical order (liveActivities) */
  activities: readonly LiveActivity[];
  goals: readonly GoalDefinition[];
  stored: ReadonlyMap<string, ReadonlyMap<Day, StoredGoalPeriod>>;
  challenges: ReadonlyArray<{ def: ChallengeDef; participant: ParticipantRow }>;
  streakRules: Omit<StreakRules, 'weekStart'>;
  nowMs: number;
}

export interface UserModelOutput {
  goalPeriods: GoalPeriodRow[];
  streaks: StreakRow[];
  participants: ParticipantRow[];
  facts: Fact[];
}

export function recomputeUser(input: UserModelInput): UserModelOutput {
  const { userId, nowMs } = input;
  const facts: Fact[] = [];
  const goalPeriods: GoalPeriodRow[] = [];
  for (const goal of input.goals) {
    const stored = input.stored.get(goal.id) ?? new Map<Day, StoredGoalPeriod>();
    const progress = goalProgress(goal, input.activities);
    const seen = new Set<Day>();
    for (const p of progress) {
      seen.add(p.start);
      const before = stored.get(p.start);
      const achieved = p.value >= goal.target;
      let achievements = before?.achievements ?? 0;
      if (achieved && !before?.achieved) {
        achievements += 1;
        facts.push({
          factKey: `goal:${goal.id}:${isoDate(p.start)}:achieved:${achievements}`,
          record: 'GoalAchieved',
          key: userId,
          payload: {
            goalId: goal.id,
            userId,
            metric: goal.type,
            period: goal.period.kind,
            periodStart: startOfLocalDay(p.start, input.timezone),
            target: goal.target,
            achieved: p.value,
            sport: (goal.sport as AvroRecords['GoalAchieved']['sport']) ?? null,
            activityId: p.crossedBy,
            periodStartDate: isoDate(p.start),
            periodEndDate: isoDate(p.end),
            achievement: achievements,
            at: nowMs,
          },
        });
      } else if (!achieved && before?.achieved) {
        facts.push(revocation(goal, userId, p.start, p.end, achievements, p.value, nowMs));
      }
      goalPeriods.push({ goalId: goal.id, ...p, achieved, achievements });
    }
    // periods whose every activity went away: revoke an achievement, keep the count for the next one
    for (const [start, before] of stored) {
      if (seen.has(start) || before.achievements === 0) continue;
      const end = periodOf(goal.period, start)?.end ?? start;
      if (before.achieved) facts.push(revocation(goal, userId, start, end, before.achievements, 0, nowMs));
      goalPeriods.push({
        goalId: goal.id,
        start,
        end,
        value: 0,
        activities: 0,
        achieved: false,
        achievements: before.achievements,
        crossedBy: null,
      });
    }
  }

  const streaks: StreakRow[] = [];
  const rules: StreakRules = { ...input.streakRules, weekStart: input.weekStart };
  const today = localDay(nowMs, input.timezone);
  const counted = input.activities.filter((a) => qualifies(rules, a));
  const scopes = ['', ...new Set(counted.map((a) => a.sport))].sort();
  for (const sport of scopes) {
    const acts = sport === '' ? counted : counted.filter((a) => a.sport === sport);
    const days = acts.map((a) => a.day);
    for (const kind of STREAK_KINDS) {
      const s = kind === 'daily' ? dailyStreak(days, today) : weeklyStreak(days, today, rules);
      const last = s.runs[s.runs.length - 1];
      if (!last || !s.longest) continue;
      streaks.push({ kind, sport, last, longest: s.longest });
      for (const m of milestonesReached(kind, s.runs)) {
        const on = (a: LiveActivity) =>
          kind === 'daily' ? a.day === m.reachedOn : weekStartOf(a.day, rules.weekStart) === m.reachedOn;
        facts.push({
          factKey: `streak:${userId}:${kind}:${sport || '*'}:${isoDate(m.startedOn)}:${m.length}`,
          record: 'StreakMilestone',
          key: userId,
          payload: {
            userId,
            streakKind: kind,
            length: m.length,
            startedOn: isoDate(m.startedOn),
            activityId: acts.find(on)?.activityId ?? null,
            sport: sport === '' ? null : sport,
            reachedOn: isoDate(m.reachedOn),
            at: nowMs,
          },
        });
      }
    }
  }

  const participants: ParticipantRow[] = [];
  for (const { def, participant } of input.challenges) {
    if (participant.state === 'unjoined') continue;
    // completion and the window's end are facts of the state, whoever moved it (activities, support,
    // the close sweep), so they are announced from here, once each by their key
    if (participant.state !== 'joined') {
      facts.push(
        challengeFact(def, userId, participant.state, null, participant.value, participant.forced, nowMs),
      );
    }
    const dayOf = def.timezone
      ? (a: ActivityFacts) => localDay(a.startTs, def.timezone as string)
      : (a: ActivityFacts) => a.day;
    const p = challengeProgress(def.rule, def, def.milestones, input.activities, dayOf);
    if (participant.state === 'completed') {
      // the state is final, but its progress keeps following the activities, so it does not depend
      // on how the events that completed it were batched
      participants.push({ ...participant, value: p.value, milestones: p.milestones });
      continue;
    }
    if (participant.state !== 'joined') continue;
    const localToday = def.timezone ? localDay(nowMs, def.timezone) : today;
    const t = transition(participant.state, 'progress', def, localToday, p.reachedTarget);
    if (!t.ok) continue; // not started yet: nothing to record
    participants.push({ ...participant, state: t.state, value: p.value, milestones: p.milestones });
    for (const m of p.milestones) {
      facts.push(challengeFact(def, userId, 'milestone', m, p.value, false, nowMs));
    }
    if (t.state === 'completed')
      facts.push(challengeFact(def, userId, 'completed', null, p.value, false, nowMs));
  }
  return { goalPeriods, streaks, participants, facts };
}

function revocation(
  goal: GoalDefinition,
  userId: string,
  start: Day,
  end: Day,
  achievement: number,
  value: number,
  nowMs: number,
): Fact {
  return {
    factKey: `goal:${goal.id}:${isoDate(start)}:revoked:${achievement}`,
    record: 'GoalAchievementRevoked',
    key: userId,
    payload: {
      goalId: goal.id,
      userId,
      periodStartDate: isoDate(start),
      periodEndDate: isoDate(end),
      achievement,
      target: goal.target,
      value,
      at: nowMs,
    },
  };
}

export function challengeFact(
  def: Pick<ChallengeDef, 'id' | 'rule'>,
  userId: string,
  kind: 'milestone' | 'completed' | 'not_completed',
  milestone: number | null,
  value: number,
  forced: boolean,
  nowMs: number,
): Fact {
  return {
    factKey: `challenge:${def.id}:${userId}:${kind}${milestone === null ? '' : `:${milestone}`}`,
    record: 'ChallengeProgressed',
    key: userId,
    payload: {
      challengeId: def.id,
      userId,
      kind,
      milestone,
      value,
      target: def.rule.target,
      forced,
      at: nowMs,
    },
  };
}
