import type { Sample, Sport } from '../../schemas/types.js';
import type { ActivitySummary } from '../types.js';
import type { ImportedEvent } from './types.js';

/** One lap of an activity to export: Fitstream's computed lap (pipelines/types.ts Lap) plus its calories. */
export interface ExportLap {
  startTs: number;
  endTs: number;
  elapsedS: number;
  /** timer time: the lap's moving time */
  movingS: number;
  distanceM: number;
  avgHr: number | null;
  maxHr: number | null;
  calories: number;
}

/**
 * What the TCX and FIT writers need of an activity: the samples as recorded (samples_v), its laps and
 * totals as Fitstream computed them, and the device's pauses (session controls).
 */
export interface ExportActivity {
  sport: Sport;
  name: string | null;
  samples: readonly Sample[];
  /** in time order; none: the whole activity is one lap */
  laps: readonly ExportLap[];
  /** pause / resume in device time (ms UTC); lap events are ignored (laps say where laps are) */
  events: readonly ImportedEvent[];
  totals: {
    /** the activity's start and end (ms UTC): where there are no samples (a strength session) the file's times */
    startTs: number;
    endTs: number;
    elapsedS: number;
    movingS: number;
    distanceM: number;
    elevGainM: number;
    elevLossM: number;
    avgHr: number | null;
    maxHr: number | null;
    calories: number;
  };
}

/** Sports where a file counts cadence on one foot (TCX RunCadence, FIT cadence): Fitstream stores steps/min. */
export const FOOT_SPORTS: ReadonlySet<Sport> = new Set(['running', 'walking', 'hiking']);

/**
 * The samples of each lap: a sample belongs to the first lap whose end is at or after it (the sample at a
 * boundary closes its lap, as pipelines/stages/laps.ts counts it); samples after the last lap's end go to
 * the last lap. Without laps, one lap of everything.
 */
export function samplesByLap(a: ExportActivity): Sample[][] {
  if (a.laps.length <= 1) return [[...a.samples]];
  const out: Sample[][] = a.laps.map(() => []);
  let k = 0;
  for (const s of a.samples) {
    while (k < a.laps.length - 1 && s.ts > a.laps[k]!.endTs) k++;
    out[k]!.push(s);
  }
  return out;
}

/** The pause intervals [pauseTs, resumeTs) from pause/resume events (a pause without a resume runs to the end). */
export function pauses(events: readonly ImportedEvent[]): [number, number][] {
  const out: [number, number][] = [];
  let open: number | null = null;
  for (const e of [...events].sort((x, y) => x.ts - y.ts)) {
    if (e.kind === 'pause' && open === null) open = e.ts;
    else if (e.kind === 'resume' && open !== null) {
      out.push([open, e.ts]);
      open = null;
    }
  }
  if (open !== null) out.push([open, Number.POSITIVE_INFINITY]);
  return out;
}

/**
 * The export view of a computed activity: its samples as recorded, its pause/resume events and the laps
 * and totals of its summary. A lap's calories are the activity's shared out by the lap's elapsed time
 * (the summary has calories for the whole activity only).
 */
export function exportActivityOf(
  stored: Partial<ActivitySummary> & Pick<ActivitySummary, 'sport'>,
  samples: readonly Sample[],
  events: readonly ImportedEvent[],
  name: string | null,
): ExportActivity {
  // a summary is stored JSON: one written by an older algorithm version may lack a field, which then counts as
  // absent (no laps: one lap of everything; no total: 0) rather than failing the export
  const laps = stored.laps ?? [];
  const calories = stored.calories ?? 0;
  const elapsed = laps.reduce((s, l) => s + l.elapsedS, 0);
  return {
    sport: stored.sport,
    name,
    samples,
    events: events.filter((e) => e.kind !== 'lap'),
    laps: laps.map((l) => ({
      startTs: l.startTs,
      endTs: l.endTs,
      elapsedS: l.elapsedS,
      movingS: l.movingS,
      distanceM: l.distanceM,
      avgHr: l.avgHr,
      maxHr: l.maxHr,
      calories: elapsed > 0 ? (calories * l.elapsedS) / elapsed : calories / laps.length,
    })),
    totals: {
      startTs: stored.startTs ?? samples[0]?.ts ?? 0,
      endTs: stored.endTs ?? samples.at(-1)?.ts ?? 0,
      elapsedS: stored.elapsedS ?? 0,
      movingS: stored.movingS ?? 0,
      distanceM: stored.distanceM ?? 0,
      elevGainM: stored.elevGainM ?? 0,
      elevLossM: stored.elevLossM ?? 0,
      avgHr: stored.hr?.avg ?? null,
      maxHr: stored.hr?.max ?? null,
      calories,
    },
  };
}
