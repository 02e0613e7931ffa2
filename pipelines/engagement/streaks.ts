// Daily and weekly streaks over local dates, and the milestones they reach. A day counts when it has a
// qualifying activity; a week (starting on the athlete's first day of the week) counts when it has at
// least `weeklyMinActivities` qualifying activities. Streaks are a function of the set of counted days,
// so the order and repetition of activity events cannot change them.
import type { ActivityFacts } from './activities.js';
import type { Day } from './local-days.js';
import { weekStartOf } from './periods.js';

export const STREAK_KINDS = ['daily', 'weekly'] as const;
export type StreakKind = (typeof STREAK_KINDS)[number];

/** Lengths (days, weeks) that publish StreakMilestone when a streak reaches them. */
export const STREAK_MILESTONES: { readonly [K in StreakKind]: readonly number[] } = {
  daily: [7, 30, 100, 365],
  weekly: [4, 12, 26, 52],
};

export interface StreakRules {
  /** an activity qualifies with at least this distance (0: no distance rule) ... */
  minDistanceM: number;
  /** ... or at least this moving time (0: no time rule); with both 0 every activity qualifies */
  minMovingS: number;
  /** a week counts with at least this many qualifying activities */
  weeklyMinActivities: number;
  /** 0 = Sunday ... 6 = Saturday */
  weekStart: number;
}

/** A run of consecutive counted days or weeks; `start` / `end` are the first and last local dates. */
export interface StreakSpan {
  length: number;
  start: Day;
  end: Day;
}

export interface StreakSummary {
  current: StreakSpan | null;
  longest: StreakSpan | null;
  runs: StreakSpan[];
}

export function qualifies(rules: StreakRules, a: Pick<ActivityFacts, 'distanceM' | 'movingS'>): boolean {
  if (rules.minDistanceM <= 0 && rules.minMovingS <= 0) return true;
  return (
    (rules.minDistanceM > 0 && a.distanceM >= rules.minDistanceM) ||
    (rules.minMovingS > 0 && a.movingS >= rules.minMovingS)
  );
}

/** Runs of consecutive values in a sorted, distinct list, where consecutive means `+ step`. */
function runsOf(sorted: readonly Day[], step: number, span: number): StreakSpan[] {
  const runs: StreakSpan[] = [];
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last && d === last.end - span + 1 + step) {
      last.length += 1;
      last.end = d + span - 1;
    } else runs.push({ length: 1, start: d, end: d + span - 1 });
  }
  return runs;
}

function summarise(runs: StreakSpan[], alive: (run: StreakSpan) => boolean): StreakSummary {
  let longest: StreakSpan | null = null;
  for (const r of runs) if (!longest || r.length >= longest.length) longest = r;
  const last = runs[runs.length - 1];
  return { current: last && alive(last) ? last : null, longest, runs };
}

/**
 * Daily streak of the counted `days` at local date `today`: the current streak is the run that ends
 * today or yesterday (today is not over yet, so yesterday's streak is still alive).
 */
export function dailyStreak(days: Iterable<Day>, today: Day): StreakSummary {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  return summarise(runsOf(sorted, 1, 1), (r) => r.end >= today - 1);
}

/** Weekly streak: weeks with at least `rules.weeklyMinActivities` of `activityDays` (one entry each). */
export function weeklyStreak(activityDays: Iterable<Day>, today: Day, rules: StreakRules): StreakSummary {
  const perWeek = new Map<Day, number>();
  for (const d of activityDays) {
    const w = weekStartOf(d, rules.weekStart);
    perWeek.set(w, (perWeek.get(w) ?? 0) + 1);
  }
  const weeks = [...perWeek]
    .filter(([, n]) => n >= rules.weeklyMinActivities)
    .map(([w]) => w)
    .sort((a, b) => a - b);
  const thisWeek = weekStartOf(today, rules.weekStart);
  return summarise(runsOf(weeks, 7, 7), (r) => r.end >= thisWeek - 1);
}

export interface MilestoneReached {
  kind: StreakKind;
  /** the milestone length, in days or weeks */
  length: number;
  /** first day of the streak that reached it */
  startedOn: Day;
  /** the day (daily) or the first day of the week (weekly) the milestone was reached on */
  reachedOn: Day;
}

/** Every milestone reached by any run: one fact per (run start, milestone), whatever the order. */
export function milestonesReached(kind: StreakKind, runs: readonly StreakSpan[]): MilestoneReached[] {
  const step = kind === 'daily' ? 1 : 7;
  const out: MilestoneReached[] = [];
  for (const r of runs) {
    for (const m of STREAK_MILESTONES[kind]) {
      if (r.length < m) break;
      out.push({ kind, length: m, startedOn: r.start, reachedOn: r.start + (m - 1) * step });
    }
  }
  return out;
}
