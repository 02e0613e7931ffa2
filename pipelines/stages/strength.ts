import type { StrengthSet } from '../../schemas/types.js';
import type { StrengthSummary } from '../types.js';

/**
 * Strength sessions: sets (exercise, reps, weight) roll up into the same activity model. Sets are
 * deduplicated on (exercise, startTs) — the same set re-sent is one set, the lowest (reps, weight)
 * copy wins deterministically — and ordered by start time. Volume = Σ reps × weight (bodyweight
 * sets count reps, no volume). Invalid sets (non-finite or negative reps/weight) are dropped.
 */
export function strength(sets: readonly StrengthSet[]): StrengthSummary | null {
  const byKey = new Map<string, StrengthSet>();
  for (const s of sets) {
    if (!Number.isFinite(s.startTs) || !Number.isInteger(s.reps) || s.reps < 0) continue;
    if (s.weightKg !== null && !(Number.isFinite(s.weightKg) && s.weightKg >= 0)) continue;
    const key = `${s.exercise}\u0000${s.startTs}`;
    const prev = byKey.get(key);
    if (!prev || cmpSet(s, prev) < 0) byKey.set(key, s);
  }
  if (byKey.size === 0) return null;
  const list = [...byKey.values()].sort(
    (a, b) => a.startTs - b.startTs || (a.exercise < b.exercise ? -1 : a.exercise > b.exercise ? 1 : 0),
  );
  let totalReps = 0;
  let totalVolumeKg = 0;
  const ex = new Map<string, { exercise: string; sets: number; reps: number; volumeKg: number }>();
  for (const s of list) {
    const vol = s.reps * (s.weightKg ?? 0);
    totalReps += s.reps;
    totalVolumeKg += vol;
    const e = ex.get(s.exercise) ?? { exercise: s.exercise, sets: 0, reps: 0, volumeKg: 0 };
    e.sets++;
    e.reps += s.reps;
    e.volumeKg += vol;
    ex.set(s.exercise, e);
  }
  return {
    sets: list.map((s) => ({
      exercise: s.exercise,
      reps: s.reps,
      weightKg: s.weightKg,
      startTs: s.startTs,
      endTs: s.endTs,
    })),
    totalReps,
    totalVolumeKg,
    exercises: [...ex.values()],
  };
}

function cmpSet(a: StrengthSet, b: StrengthSet): number {
  return a.reps - b.reps || (a.weightKg ?? -1) - (b.weightKg ?? -1) || (a.endTs ?? -1) - (b.endTs ?? -1);
}

/** Time span covered by the sets, for sessions without samples. */
export function setsSpan(s: StrengthSummary): { startTs: number; endTs: number } {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const x of s.sets) {
    if (x.startTs < start) start = x.startTs;
    const e = x.endTs ?? x.startTs;
    if (e > end) end = e;
  }
  return { startTs: start, endTs: end };
}
