// Goal progress: per period, the sum of what the goal counts over the athlete's live activities, and
// the status of a period at a given local time. The engagement service stores the per-period sums
// (and publishes GoalAchieved when one reaches its target); the API derives the status at read time,
// because `missed` and the pace line move with the clock, not with events.
import type { ActivityFacts } from './activities.js';
import type { Day } from './local-days.js';
import { elapsedFraction, type Period, type PeriodRule, periodOf } from './periods.js';

export const GOAL_TYPES = ['distance', 'duration', 'count', 'elevation', 'calories'] as const;
export type GoalType = (typeof GOAL_TYPES)[number];

export const GOAL_STATUSES = ['new', 'on_track', 'behind', 'achieved', 'missed'] as const;
export type GoalStatus = (typeof GOAL_STATUSES)[number];

export interface GoalDefinition {
  id: string;
  type: GoalType;
  /** null: every sport counts */
  sport: string | null;
  period: PeriodRule;
  /** metres (distance, elevation), seconds (duration), activities (count) or kcal (calories) */
  target: number;
  /** the goal counts activities from this local date on ... */
  startsOn: Day;
  /** ... up to this one (inclusive); null = open-ended */
  endsOn: Day | null;
}

/** What one activity adds to a goal of `type`. */
export function contribution(type: GoalType, a: ActivityFacts): number {
  switch (type) {
    case 'distance':
      return a.distanceM;
    case 'duration':
      return a.movingS;
    case 'count':
      return 1;
    case 'elevation':
      return a.elevationM;
    case 'calories':
      return a.calories;
  }
}

export interface PeriodProgress extends Period {
  value: number;
  activities: number;
  /** the activity whose addition (in start order) first reached the target; null when not reached */
  crossedBy: string | null;
}

export function counts(goal: GoalDefinition, a: ActivityFacts): boolean {
  if (goal.sport !== null && a.sport !== goal.sport) return false;
  if (a.day < goal.startsOn) return false;
  return goal.endsOn === null || a.day <= goal.endsOn;
}

/**
 * The progress of every period of `goal` that has at least one counted activity, oldest first.
 * `activities` must be in canonical order (liveActivities), so `crossedBy` does not depend on the
 * order the events arrived in.
 */
export function goalProgress(
  goal: GoalDefinition,
  activities: ReadonlyArray<ActivityFacts & { activityId: string }>,
): PeriodProgress[] {
  const byStart = new Map<Day, PeriodProgress>();
  for (const a of activities) {
    if (!counts(goal, a)) continue;
    const p = periodOf(goal.period, a.day);
    if (!p) continue;
    let acc = byStart.get(p.start);
    if (!acc) {
      acc = { start: p.start, end: p.end, value: 0, activities: 0, crossedBy: null };
      byStart.set(p.start, acc);
    }
    acc.value += contribution(goal.type, a);
    acc.activities += 1;
    if (acc.crossedBy === null && acc.value >= goal.target) acc.crossedBy = a.activityId;
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

export interface GoalReading {
  status: GoalStatus;
  /** the pace line: target x elapsed fraction of the period */
  expected: number;
  /** value / target x 100, not capped */
  percent: number;
}

/** The status of one period of a goal at local time `day` + `second`. */
export function goalStatus(
  target: number,
  period: Period,
  progress: { value: number; activities: number },
  day: Day,
  second: number,
): GoalReading {
  const expected = target * elapsedFraction(period, day, second);
  const percent = target > 0 ? (progress.value / target) * 100 : 0;
  let status: GoalStatus;
  if (progress.value >= target) status = 'achieved';
  else if (day > period.end) status = 'missed';
  else if (progress.activities === 0) status = 'new';
  else status = progress.value >= expected ? 'on_track' : 'behind';
  return { status, expected, percent };
}
