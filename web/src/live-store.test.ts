import { describe, expect, test } from 'vitest';
import { LiveBoardStore, type LiveSnapshot, STALE_AFTER_MS } from './live-store';

const snap = (o: Partial<LiveSnapshot> = {}): LiveSnapshot => ({
  activity_id: 'a1',
  user_id: 'u1',
  sport: 'running',
  status: 'active',
  ts: 1000,
  lat: 47,
  lon: 8,
  hr: 140,
  speed_mps: 3,
  pace_s_per_km: 333,
  distance_m: 100,
  elapsed_s: 30,
  moving_s: 30,
  ...o,
});

describe("the coach board's live state", () => {
  test('a session is live, then stale after 10 s without a snapshot, and done once ended', () => {
    const s = new LiveBoardStore();
    s.apply(snap(), 0);
    const e = s.sessions.get('a1')!;
    expect(LiveBoardStore.stateOf(e, STALE_AFTER_MS)).toBe('live');
    expect(LiveBoardStore.stateOf(e, STALE_AFTER_MS + 1)).toBe('stale');
    s.apply(snap({ ts: 2000, status: 'ended' }), 20_000);
    expect(LiveBoardStore.stateOf(e, 20_000)).toBe('done');
  });
  test('an ended session stays done; an older snapshot changes nothing', () => {
    const s = new LiveBoardStore();
    s.apply(snap({ ts: 5000, status: 'ended', distance_m: 500 }), 0);
    s.apply(snap({ ts: 6000, status: 'active', distance_m: 600 }), 1);
    s.apply(snap({ ts: 4000, distance_m: 400 }), 2);
    expect(s.sessions.get('a1')!.snap).toMatchObject({ status: 'ended', distance_m: 500 });
  });
  test('trail and history grow by one per new device time, not per repeated snapshot', () => {
    const s = new LiveBoardStore();
    s.apply(snap({ ts: 1000 }), 0);
    s.apply(snap({ ts: 1000 }), 1); // a reconnect replays the current state
    s.apply(snap({ ts: 2000, lat: null, lon: null }), 2);
    const e = s.sessions.get('a1')!;
    expect(e.history.map((h) => h.ts)).toEqual([1000, 2000]);
    expect(e.trail).toHaveLength(1);
  });
  test('a revoked athlete leaves with all their sessions; keepAthletes drops those no longer granted', () => {
    const s = new LiveBoardStore();
    s.apply(snap({ activity_id: 'a1', user_id: 'u1' }), 0);
    s.apply(snap({ activity_id: 'a2', user_id: 'u1' }), 0);
    s.apply(snap({ activity_id: 'b1', user_id: 'u2' }), 0);
    s.apply(snap({ activity_id: 'c1', user_id: 'u3' }), 0);
    s.removeAthlete('u1');
    expect([...s.sessions.keys()]).toEqual(['b1', 'c1']);
    s.keepAthletes(new Set(['u3']));
    expect([...s.sessions.keys()]).toEqual(['c1']);
  });
  test('board order: live, then stale, then done; by name within each', () => {
    const s = new LiveBoardStore();
    s.apply(snap({ activity_id: 'x', user_id: 'zoe' }), 100_000);
    s.apply(snap({ activity_id: 'y', user_id: 'ann' }), 100_000);
    s.apply(snap({ activity_id: 'z', user_id: 'bob' }), 0);
    s.apply(snap({ activity_id: 'w', user_id: 'al', status: 'ended' }), 100_000);
    expect(s.ordered(100_000, (id) => id).map((e) => e.snap.activity_id)).toEqual(['y', 'x', 'z', 'w']);
  });
});
