import { describe, expect, it } from 'vitest';
import type { SessionControl } from '../../schemas/types.js';
import { repeat, T0, trackFromSpeeds } from '../../test/support/samples.js';
import { FLAG_LAP } from '../types.js';
import { lapBoundaries, laps } from './laps.js';

const lapControl = (ts: number): SessionControl => ({
  deviceId: 'd',
  userId: 'u',
  sessionId: 's',
  kind: 'lap',
  sport: 'running',
  ts,
  receivedAt: 0,
});

describe('laps', () => {
  it('without markers the whole session is one lap', () => {
    const t = trackFromSpeeds(repeat(4, 100), { hr: repeat(150, 101) });
    const l = laps(t, []);
    expect(l).toHaveLength(1);
    expect(l[0]).toMatchObject({ index: 0, startTs: T0, endTs: T0 + 100_000, elapsedS: 100 });
    expect(l[0]!.distanceM).toBe(400);
    expect(l[0]!.avgSpeedMps).toBe(4);
    expect(l[0]!.avgHr).toBe(150);
  });

  it('closes laps at sample markers and lap controls, deduplicated by time', () => {
    // 100 s at 3 m/s then 100 s at 5 m/s, HR 140 then 170
    const t = trackFromSpeeds([...repeat(3, 100), ...repeat(5, 100)], {
      hr: Array.from({ length: 201 }, (_, i) => (i <= 100 ? 140 : 170)),
    });
    t.flags[100] = FLAG_LAP;
    // the same press again as a control, plus one between rows (150.5 s), and one at the very end
    const l = laps(t, [lapControl(T0 + 100_000), lapControl(T0 + 150_500), lapControl(T0 + 200_000)]);
    expect(l.map((x) => x.elapsedS)).toEqual([100, 50.5, 49.5]);
    expect(l[0]!.distanceM).toBe(300);
    expect(l[1]!.distanceM).toBeCloseTo(252.5, 9);
    expect(l[2]!.distanceM).toBeCloseTo(247.5, 9);
    expect(l[0]!.avgHr).toBe(140);
    expect(l[2]!.maxHr).toBe(170);
    expect(l[1]!.avgSpeedMps).toBe(5);
  });

  it('ignores markers at or outside the session ends', () => {
    const t = trackFromSpeeds(repeat(4, 10));
    t.flags[0] = FLAG_LAP;
    expect(lapBoundaries(t, [lapControl(T0 - 5000), lapControl(T0 + 99_000)])).toEqual([T0, T0 + 10_000]);
  });

  it('per-lap elevation gain', () => {
    const t = trackFromSpeeds(repeat(2, 100), {
      alt: Array.from({ length: 101 }, (_, i) => (i <= 50 ? 200 + i * 0.2 : 210)),
    });
    t.flags[50] = FLAG_LAP;
    expect(laps(t, []).map((x) => x.elevGainM)).toEqual([expect.closeTo(10, 4), 0]);
  });
});
