// Streak challenges: the participant state machine and progress over a challenge's window. Every
// change of a participant (join, leave, progress, completion, the window closing, support's
// force-complete and recalculation) goes through `transition`, so the engagement service and the API
// refuse the same things with the same codes.
import type { ActivityFacts } from './activities.js';
import type { Day } from './local-days.js';

export const PARTICIPANT_STATES = ['unjoined', 'joined', 'completed', 'not_completed'] as const;
export type ParticipantState = (typeof PARTICIPANT_STATES)[number];

export const CHALLENGE_ACTIONS = [
  'join',
  'leave',
  'progress',
  'force_complete',
  'recalculate',
  'close',
] as const;
export type ChallengeAction = (typeof CHALLENGE_ACTIONS)[number];

/** Why a transition is refused: stable codes, each with its own message. */
export const CHALLENGE_REFUSALS = {
  challenge_not_found: 'No such challenge',
  not_joined: 'The athlete has not joined this challenge',
  already_joined: 'The athlete has already joined this challenge',
  challenge_not_started: 'The challenge has not started yet',
  challenge_ended: 'The challenge window is over',
  already_completed: 'The athlete has already completed this challenge',
  forbidden_transition: 'This change is not allowed from the participant’s current state',
} as const;
export type ChallengeRefusal = keyof typeof CHALLENGE_REFUSALS;

export interface ChallengeWindow {
  /** first and last local dates of the window (inclusive) */
  start: Day;
  end: Day;
  /** closed early by an admin */
  closed: boolean;
}

export type TransitionResult =
  | { ok: true; state: ParticipantState }
  | { ok: false; code: ChallengeRefusal; message: string };

const refuse = (code: ChallengeRefusal): TransitionResult => ({
  ok: false,
  code,
  message: CHALLENGE_REFUSALS[code],
});

/**
 * The participant state after `action` at local date `today`, or the refusal. `progress` and
 * `recalculate` need `reachedTarget` (the recomputed progress meets the target). Leaving keeps the
 * progress: it is derived from the athlete's activities in the window, so a rejoin shows it again.
 */
export function transition(
  state: ParticipantState,
  action: ChallengeAction,
  window: ChallengeWindow,
  today: Day,
  reachedTarget = false,
): TransitionResult {
  const over = window.closed || today > window.end;
  switch (action) {
    case 'join':
      if (state === 'joined') return refuse('already_joined');
      if (state === 'completed') return refuse('already_completed');
      if (over || state === 'not_completed') return refuse('challenge_ended');
      return { ok: true, state: 'joined' };
    case 'leave':
      if (state === 'unjoined') return refuse('not_joined');
      if (state === 'completed') return refuse('already_completed');
      if (state === 'not_completed') return refuse('challenge_ended');
      return { ok: true, state: 'unjoined' };
    case 'progress':
    case 'recalculate':
      if (state === 'unjoined') return refuse('not_joined');
      if (state === 'completed') return refuse('already_completed');
      if (state === 'not_completed') return refuse('challenge_ended');
      if (action === 'progress' && today < window.start) return refuse('challenge_not_started');
      return { ok: true, state: reachedTarget ? 'completed' : 'joined' };
    case 'force_complete':
      if (state === 'unjoined') return refuse('not_joined');
      if (state === 'completed') return refuse('already_completed');
      if (state === 'not_completed') return refuse('forbidden_transition');
      return { ok: true, state: 'completed' };
    case 'close':
      if (state === 'joined') return { ok: true, state: 'not_completed' };
      if (state === 'unjoined') return refuse('not_joined');
      if (state === 'completed') return refuse('already_completed');
      return refuse('challenge_ended');
  }
}

export const CHALLENGE_RULE_KINDS = [
  'activities_per_week',
  'distance_per_day',
  'total_distance',
  'total_duration',
] as const;
export type ChallengeRuleKind = (typeof CHALLENGE_RULE_KINDS)[number];

export interface ChallengeRule {
  kind: ChallengeRuleKind;
  /** activities a week (activities_per_week) or metres a day (distance_per_day); unused otherwise */
  perPeriod: number;
  /** weeks or days to complete (per-period rules), metres or seconds (totals) */
  target: number;
  /** null: every sport */
  sport: string | null;
  /** an activity counts with at least this distance / moving time */
  minDistanceM: number;
  minMovingS: number;
}

export interface ChallengeProgress {
  /** weeks or days done (per-period rules), metres or seconds (totals) */
  value: number;
  target: number;
  /** milestones (in the unit of `value`) reached, ascending */
  milestones: number[];
  reachedTarget: boolean;
}

/**
 * Progress of one athlete over the window. `dayOf` gives an activity's local date under the
 * challenge's time zone rule (the athlete's zone or the challenge's own). Weeks of
 * activities_per_week are counted from the window's first day, so every athlete's weeks line up.
 */
export function challengeProgress(
  rule: ChallengeRule,
  window: Pick<ChallengeWindow, 'start' | 'end'>,
  milestones: readonly number[],
  activities: Iterable<ActivityFacts>,
  dayOf: (a: ActivityFacts) => Day = (a) => a.day,
): ChallengeProgress {
  const buckets = new Map<number, number>();
  let total = 0;
  for (const a of activities) {
    if (rule.sport !== null && a.sport !== rule.sport) continue;
    if (a.distanceM < rule.minDistanceM || a.movingS < rule.minMovingS) continue;
    const day = dayOf(a);
    if (day < window.start || day > window.end) continue;
    switch (rule.kind) {
      case 'activities_per_week': {
        const w = Math.floor((day - window.start) / 7);
        buckets.set(w, (buckets.get(w) ?? 0) + 1);
        break;
      }
      case 'distance_per_day':
        buckets.set(day, (buckets.get(day) ?? 0) + a.distanceM);
        break;
      case 'total_distance':
        total += a.distanceM;
        break;
      case 'total_duration':
        total += a.movingS;
        break;
    }
  }
  let value = total;
  if (rule.kind === 'activities_per_week' || rule.kind === 'distance_per_day') {
    value = 0;
    for (const v of buckets.values()) if (v >= rule.perPeriod) value += 1;
  }
  return {
    value,
    target: rule.target,
    milestones: [...milestones].filter((m) => m <= value).sort((a, b) => a - b),
    reachedTarget: value >= rule.target,
  };
}
