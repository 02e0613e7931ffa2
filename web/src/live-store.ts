// What the coach's board knows of every live session: the latest snapshot, a trail and a short history
// for the charts. Pure (the clock is passed in), so it is unit-tested without a browser.
import type { LatLon } from './projection';

/** A snapshot as the API's live streams send it (GET /v1/live/board/stream, event: snapshot). */
export interface LiveSnapshot {
  activity_id: string;
  user_id: string;
  sport: string;
  status: 'active' | 'paused' | 'ended' | string;
  ts: number;
  lat: number | null;
  lon: number | null;
  hr: number | null;
  speed_mps: number;
  pace_s_per_km: number | null;
  distance_m: number;
  elapsed_s: number;
  moving_s: number;
}

export interface LiveEntry {
  snap: LiveSnapshot;
  /** local clock ms when the latest snapshot arrived (device clocks may be off: staleness is judged here) */
  receivedAt: number;
  trail: LatLon[];
  /** device time, HR and pace of every snapshot kept, oldest first */
  history: { ts: number; hr: number | null; pace: number | null; speed: number }[];
}

export type LiveState = 'live' | 'stale' | 'done';

const collator = new Intl.Collator(undefined, { numeric: true });

export const STALE_AFTER_MS = 10_000;
export const TRAIL_POINTS = 600;
export const HISTORY_POINTS = 1800;

export class LiveBoardStore {
  readonly sessions = new Map<string, LiveEntry>();
  /** bumped on every change, so a view can tell whether to draw again */
  version = 0;

  apply(s: LiveSnapshot, now: number): void {
    let e = this.sessions.get(s.activity_id);
    if (e && s.ts < e.snap.ts) return; // an older snapshot (a reconnect replays the current one)
    if (!e) {
      e = { snap: s, receivedAt: now, trail: [], history: [] };
      this.sessions.set(s.activity_id, e);
    }
    if (e.snap.status === 'ended' && s.status !== 'ended') return;
    const repeat = e.history.length > 0 && e.history.at(-1)!.ts === s.ts;
    e.snap = s;
    e.receivedAt = now;
    if (!repeat) {
      if (s.lat !== null && s.lon !== null) push(e.trail, { lat: s.lat, lon: s.lon }, TRAIL_POINTS);
      push(e.history, { ts: s.ts, hr: s.hr, pace: s.pace_s_per_km, speed: s.speed_mps }, HISTORY_POINTS);
    }
    this.version++;
  }

  /** Drops every session of an athlete (a grant ended). */
  removeAthlete(athleteId: string): void {
    for (const [id, e] of this.sessions) if (e.snap.user_id === athleteId) this.sessions.delete(id);
    this.version++;
  }

  /** Keeps only the sessions of these athletes (the coach's current grants). */
  keepAthletes(athletes: ReadonlySet<string>): void {
    let changed = false;
    for (const [id, e] of this.sessions)
      if (!athletes.has(e.snap.user_id)) {
        this.sessions.delete(id);
        changed = true;
      }
    if (changed) this.version++;
  }

  static stateOf(e: LiveEntry, now: number): LiveState {
    if (e.snap.status === 'ended') return 'done';
    return now - e.receivedAt > STALE_AFTER_MS ? 'stale' : 'live';
  }

  /** Sessions in board order: live first, then stale, then done; by athlete name within each. */
  ordered(now: number, nameOf: (userId: string) => string): LiveEntry[] {
    const rank = { live: 0, stale: 1, done: 2 } as const;
    const keyed = [...this.sessions.values()].map((e) => ({
      e,
      rank: rank[LiveBoardStore.stateOf(e, now)],
      name: nameOf(e.snap.user_id),
    }));
    keyed.sort(
      (a, b) =>
        a.rank - b.rank ||
        collator.compare(a.name, b.name) ||
        (a.e.snap.activity_id < b.e.snap.activity_id
          ? -1
          : a.e.snap.activity_id > b.e.snap.activity_id
            ? 1
            : 0),
    );
    return keyed.map((k) => k.e);
  }
}

function push<T>(xs: T[], x: T, max: number) {
  xs.push(x);
  if (xs.length > max) xs.splice(0, xs.length - max);
}
