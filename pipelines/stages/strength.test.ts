import { describe, expect, it } from 'vitest';
import { computeActivity } from '../compute-activity.js';

describe('strength sessions roll up into the activity model', () => {
  it('dedupes sets and totals reps and volume without GPS', () => {
    const set = (exercise: string, startTs: number, reps: number, weightKg: number | null) => ({
      exercise,
      startTs,
      reps,
      weightKg,
      endTs: startTs + 30_000,
    });
    const T = 1_760_000_000_000;
    const sets = [
      set('squat', T, 5, 100),
      set('squat', T + 120_000, 5, 100),
      set('squat', T, 5, 100),
      set('pull-up', T + 240_000, 8, null),
    ];
    const r = computeActivity({
      userId: 'u',
      deviceId: 'd',
      sessionId: 's',
      sport: 'strength',
      samples: [],
      controls: [],
      sets,
      athlete: { weightKg: 80 },
    }).summary;
    expect(r.strength!.sets.length).toBe(3);
    expect(r.strength!.totalReps).toBe(18);
    expect(r.strength!.totalVolumeKg).toBe(1000);
    expect(r.elapsedS).toBe(270);
    expect(r.caloriesMethod).toBe('met');
    expect(r.calories).toBeCloseTo((3.5 * 80 * 270) / 3600, 6);
    expect(r.distanceM).toBe(0);
  });
});
