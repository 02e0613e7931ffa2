// The engagement read model's view of one activity, and the rule that makes it independent of the
// order and number of deliveries: of every event seen for an activity, the one with the highest
// (version, deleted) wins. A deletion outranks the upsert of the same version, and only a higher
// version brings a deleted activity back. Because the rule is a maximum over a total order, any
// order of the same events, with any redeliveries, leaves the same winner.
import type { Day } from './local-days.js';

/** What goals, streaks and challenges count of an activity. */
export interface ActivityFacts {
  sport: string;
  /** start instant, ms since epoch (UTC) */
  startTs: number;
  /** local date of the start in the athlete's time zone in force at that instant */
  day: Day;
  distanceM: number;
  movingS: number;
  elevationM: number;
  calories: number;
}

export interface ActivityState {
  activityId: string;
  version: number;
  deleted: boolean;
  /** null once deleted */
  facts: ActivityFacts | null;
}

/** True when `next` replaces `current` (no current state: always). */
export function supersedes(
  next: Pick<ActivityState, 'version' | 'deleted'>,
  current: Pick<ActivityState, 'version' | 'deleted'> | undefined,
): boolean {
  if (!current) return true;
  if (next.version !== current.version) return next.version > current.version;
  return next.deleted && !current.deleted;
}

/** Folds events into a map of activity states (mutating `into`); returns the ids that changed. */
export function applyActivityEvents(
  into: Map<string, ActivityState>,
  events: Iterable<ActivityState>,
): Set<string> {
  const changed = new Set<string>();
  for (const e of events) {
    if (supersedes(e, into.get(e.activityId))) {
      into.set(e.activityId, e.deleted ? { ...e, facts: null } : e);
      changed.add(e.activityId);
    }
  }
  return changed;
}

/** The live (not deleted) activities of a set of states, in a canonical order (start, then id). */
export function liveActivities(
  states: Iterable<ActivityState>,
): Array<ActivityFacts & { activityId: string }> {
  const out: Array<ActivityFacts & { activityId: string }> = [];
  for (const s of states) if (!s.deleted && s.facts) out.push({ activityId: s.activityId, ...s.facts });
  out.sort(
    (a, b) =>
      a.startTs - b.startTs || (a.activityId < b.activityId ? -1 : a.activityId > b.activityId ? 1 : 0),
  );
  return out;
}
