import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHALLENGE_ACTIONS,
  CHALLENGE_REFUSALS,
  challengeProgress,
  PARTICIPANT_STATES,
  type ParticipantState,
  transition,
} from './challenges.js';
import { parseIsoDate } from './local-days.js';

const D = (s: string) => parseIsoDate(s)!;
const W = { start: D('2026-11-02'), end: D('2026-11-22'), closed: false };

describe('participant state machine', () => {
  it('join, progress, complete; leave and rejoin', () => {
    let s: ParticipantState = 'unjoined';
    const step = (action: (typeof CHALLENGE_ACTIONS)[number], today: number, reached = false) => {
      const r = transition(s, action, W, today, reached);
      if (!r.ok) throw new Error(r.code);
      s = r.state;
      return s;
    };
    expect(step('join', W.start - 3)).toBe('joined'); // joining early is allowed
    expect(step('progress', W.start)).toBe('joined');
    expect(step('leave', W.start + 1)).toBe('unjoined');
    expect(step('join', W.start + 2)).toBe('joined');
    expect(step('progress', W.start + 15, true)).toBe('completed');
  });

  it('refuses with stable codes and distinct messages', () => {
    const r = (state: ParticipantState, action: (typeof CHALLENGE_ACTIONS)[number], today = W.start + 1) => {
      const t = transition(state, action, W, today);
      return t.ok ? `ok:${t.state}` : t.code;
    };
    expect(r('unjoined', 'force_complete')).toBe('not_joined');
    expect(r('unjoined', 'progress')).toBe('not_joined');
    expect(r('unjoined', 'leave')).toBe('not_joined');
    expect(r('joined', 'join')).toBe('already_joined');
    expect(r('joined', 'progress', W.start - 1)).toBe('challenge_not_started');
    expect(r('unjoined', 'join', W.end + 1)).toBe('challenge_ended');
    expect(r('completed', 'join')).toBe('already_completed');
    expect(r('completed', 'force_complete')).toBe('already_completed');
    expect(r('not_completed', 'force_complete')).toBe('forbidden_transition');
    expect(r('joined', 'force_complete')).toBe('ok:completed');
    expect(r('joined', 'close', W.end + 1)).toBe('ok:not_completed');
    expect(transition('unjoined', 'join', { ...W, closed: true }, W.start)).toMatchObject({
      ok: false,
      code: 'challenge_ended',
    });
    expect(new Set(Object.values(CHALLENGE_REFUSALS)).size).toBe(Object.keys(CHALLENGE_REFUSALS).length);
  });

  it('never records progress or completes for an athlete who is not joined', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PARTICIPANT_STATES),
        fc.constantFrom(...CHALLENGE_ACTIONS),
        fc.integer({ min: W.start - 10, max: W.end + 10 }),
        fc.boolean(),
        (state, action, today, reached) => {
          const t = transition(state, action, W, today, reached);
          if (t.ok && t.state === 'completed') expect(state).toBe('joined');
          if (
            state !== 'joined' &&
            (action === 'progress' || action === 'force_complete' || action === 'recalculate')
          ) {
            expect(t.ok).toBe(false);
          }
          if (!t.ok) expect(t.message).toBe(CHALLENGE_REFUSALS[t.code]);
        },
      ),
    );
  });
});

describe('challenge progress', () => {
  const act = (day: number, distanceM: number, sport = 'running') => ({
    sport,
    startTs: day * 86_400_000,
    day,
    distanceM,
    movingS: distanceM / 3,
    elevationM: 0,
    calories: 0,
  });
  it('3 activities a week for 3 weeks, weeks counted from the window start', () => {
    const rule = {
      kind: 'activities_per_week' as const,
      perPeriod: 3,
      target: 3,
      sport: null,
      minDistanceM: 1000,
      minMovingS: 0,
    };
    const week = (w: number) => [
      act(W.start + 7 * w, 5000),
      act(W.start + 7 * w + 2, 5000),
      act(W.start + 7 * w + 6, 5000),
    ];
    const two = challengeProgress(rule, W, [1, 2, 3], [...week(0), ...week(1), act(W.start + 14, 500)]);
    expect(two).toEqual({ value: 2, target: 3, milestones: [1, 2], reachedTarget: false });
    const done = challengeProgress(
      rule,
      W,
      [1, 2, 3],
      [...week(0), ...week(1), ...week(2), act(W.end + 1, 5000)],
    );
    expect(done).toEqual({ value: 3, target: 3, milestones: [1, 2, 3], reachedTarget: true });
  });
  it('distance per day and totals, by sport', () => {
    const daily = {
      kind: 'distance_per_day' as const,
      perPeriod: 5000,
      target: 2,
      sport: 'running',
      minDistanceM: 0,
      minMovingS: 0,
    };
    const acts = [
      act(W.start, 3000),
      act(W.start, 2000),
      act(W.start + 1, 9000, 'cycling'),
      act(W.start + 2, 5000),
    ];
    expect(challengeProgress(daily, W, [], acts).value).toBe(2);
    const total = { ...daily, kind: 'total_distance' as const, target: 10_000 };
    expect(challengeProgress(total, W, [5000], acts)).toEqual({
      value: 10_000,
      target: 10_000,
      milestones: [5000],
      reachedTarget: true,
    });
  });
});
