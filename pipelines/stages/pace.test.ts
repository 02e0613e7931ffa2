import { describe, expect, it } from 'vitest';
import { repeat, trackFromSpeeds } from '../../test/support/samples.js';
import { FLAG_PAUSED } from '../types.js';
import { pace, paceFromTotals } from './pace.js';

describe('pace', () => {
  it('average = distance / moving time, pace its inverse in s/km', () => {
    const t = trackFromSpeeds(repeat(4, 250));
    const r = pace(t, 1000, 250);
    expect(r.avgSpeedMps).toBe(4);
    expect(r.avgPaceSPerKm).toBe(250);
    expect(paceFromTotals(5000, 1500)).toBe(300);
  });

  it('has no pace when nothing moved', () => {
    expect(paceFromTotals(0, 600)).toBeNull();
    expect(paceFromTotals(1000, 0)).toBeNull();
    expect(pace(trackFromSpeeds(repeat(0, 10)), 0, 0)).toEqual({
      avgSpeedMps: 0,
      maxSpeedMps: 0,
      avgPaceSPerKm: null,
    });
  });

  it('max speed ignores paused rows (a jitter spike while stopped is not a sprint)', () => {
    const t = trackFromSpeeds([3, 3, 9, 3, 5, 3]);
    expect(pace(t, 26, 6).maxSpeedMps).toBe(9);
    t.flags[3] = FLAG_PAUSED;
    expect(pace(t, 26, 6).maxSpeedMps).toBe(5);
  });
});
