import type { ActivitySummary } from '../../pipelines/types.js';
import type { SessionControl } from '../../schemas/types.js';
import { ROWS_PER_VERSION } from './activity-version.js';
import type { ActivityEvent, SessionRef } from './ports.js';

// The event mapping of a finalisation: which sport a version is stored under, and the activities.v1
// event (ActivityCreated / ActivityUpdated) that announces it.

/**
 * The session as the sport its athlete chose last (a `sport` control, sent by the API when the athlete
 * changes the activity's type), else as its records name it: every row and event of the version follows it.
 */
export function withSport(ref: SessionRef, controls: readonly SessionControl[]): SessionRef {
  let last: SessionControl | undefined;
  for (const c of controls) if (c.kind === 'sport' && (!last || c.ts >= last.ts)) last = c;
  return last && last.sport !== ref.sport ? { ...ref, sport: last.sport } : ref;
}

export function eventFor(
  s: ActivitySummary,
  version: number,
  previous: number | undefined,
  reason: 'late_data' | 'recompute',
  now: number,
): ActivityEvent {
  const common = {
    activityId: s.activityId,
    userId: s.userId,
    sessionId: s.sessionId,
    deviceId: s.deviceId,
    sport: s.sport,
    version,
    algorithmVersion: s.algorithmVersion,
    startTs: s.startTs,
    endTs: s.endTs,
    distanceM: s.distanceM,
    movingS: s.movingS,
    elapsedS: s.elapsedS,
    elevationGainM: s.elevGainM,
    avgHr: s.hr?.avg ?? null,
    maxHr: s.hr ? Math.round(s.hr.max) : null,
    samples: s.sampleCount,
    summaryJson: JSON.stringify({
      splitsKm: s.splitsKm,
      laps: s.laps,
      bestEfforts: s.bestEfforts,
      hrZonesS: s.hr?.zonesS ?? null,
      calories: s.calories,
    }),
    at: now,
  };
  if (previous === undefined) return { name: 'ActivityCreated', value: common };
  const algorithmChanged = Math.floor(previous / ROWS_PER_VERSION) !== Math.floor(version / ROWS_PER_VERSION);
  return { name: 'ActivityUpdated', value: { ...common, reason: algorithmChanged ? 'recompute' : reason } };
}
