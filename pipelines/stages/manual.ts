import type { ManualEntry } from '../../schemas/types.js';

/**
 * Manual entries: an activity logged by hand (duration, distance, optionally elevation gain and calories)
 * rolls up into the same activity model as a recorded one, without GPS stages. A session holds one entry;
 * should several be stored (re-sent with other values), the smallest by (startTs, durationS, distanceM,
 * elevGainM, calories) wins, so any order of arrival gives the same activity. Entries with a non-finite or
 * negative figure, or no duration, are dropped.
 */
export function manualEntry(entries: readonly ManualEntry[]): ManualEntry | null {
  let best: ManualEntry | null = null;
  for (const e of entries) {
    if (!Number.isSafeInteger(e.startTs) || !(e.durationS > 0) || !Number.isFinite(e.durationS)) continue;
    if (!(Number.isFinite(e.distanceM) && e.distanceM >= 0)) continue;
    if (!optionalFigure(e.elevGainM) || !optionalFigure(e.calories)) continue;
    if (!best || cmp(e, best) < 0) best = e;
  }
  return best;
}

const optionalFigure = (v: number | null): boolean => v === null || (Number.isFinite(v) && v >= 0);

function cmp(a: ManualEntry, b: ManualEntry): number {
  return (
    a.startTs - b.startTs ||
    a.durationS - b.durationS ||
    a.distanceM - b.distanceM ||
    (a.elevGainM ?? -1) - (b.elevGainM ?? -1) ||
    (a.calories ?? -1) - (b.calories ?? -1)
  );
}
