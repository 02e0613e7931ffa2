import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ManualEntry } from '../../schemas/types.js';
import { computeActivity } from '../compute-activity.js';
import { sportConfig } from '../config.js';
import { metCalories } from './calories.js';
import { manualEntry } from './manual.js';

const T = Date.parse('2026-11-29T07:00:00Z');
const entry = (over: Partial<ManualEntry> = {}): ManualEntry => ({
  startTs: T,
  durationS: 1800,
  distanceM: 5000,
  elevGainM: null,
  calories: null,
  ...over,
});
const compute = (sport: 'running' | 'cycling' | 'strength', manual: ManualEntry[], weightKg?: number) =>
  computeActivity({
    userId: 'u1',
    deviceId: 'upload',
    sessionId: 's1',
    sport,
    samples: [],
    controls: [],
    sets: [],
    manual,
    athlete: weightKg === undefined ? {} : { weightKg },
  }).summary;

describe('manualEntry', () => {
  it('drops entries with a non-finite, negative or zero duration, or negative figures', () => {
    expect(manualEntry([])).toBeNull();
    expect(manualEntry([entry({ durationS: 0 })])).toBeNull();
    expect(manualEntry([entry({ durationS: Number.NaN })])).toBeNull();
    expect(manualEntry([entry({ distanceM: -1 })])).toBeNull();
    expect(manualEntry([entry({ calories: -5 })])).toBeNull();
    expect(manualEntry([entry({ elevGainM: Number.POSITIVE_INFINITY })])).toBeNull();
    expect(manualEntry([entry({ distanceM: 0 })])).toEqual(entry({ distanceM: 0 }));
  });

  it('picks the same entry whatever the order of several', () => {
    const arb = fc.array(
      fc.record({
        startTs: fc.integer({ min: T, max: T + 10 }),
        durationS: fc.integer({ min: 1, max: 5 }),
        distanceM: fc.integer({ min: 0, max: 3 }),
        elevGainM: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
        calories: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(arb, fc.integer(), (es, seed) => {
        const shuffled = [...es].sort(
          (a, b) => ((JSON.stringify(a).length * seed) % 7) - (JSON.stringify(b).length % 5),
        );
        expect(manualEntry(shuffled)).toEqual(manualEntry(es));
        expect(manualEntry([...es].reverse())).toEqual(manualEntry(es));
      }),
    );
  });
});

describe('a manual entry rolled up by computeActivity', () => {
  it('takes its duration, distance and gain; moving = elapsed; pace and speed from them', () => {
    const s = compute('running', [entry({ elevGainM: 40 })], 70);
    expect(s.startTs).toBe(T);
    expect(s.endTs).toBe(T + 1_800_000);
    expect(s.elapsedS).toBe(1800);
    expect(s.movingS).toBe(1800);
    expect(s.distanceM).toBe(5000);
    expect(s.elevGainM).toBe(40);
    expect(s.avgSpeedMps).toBeCloseTo(5000 / 1800, 12);
    expect(s.avgPaceSPerKm).toBeCloseTo(360, 12);
    expect(s.sampleCount).toBe(0);
    expect(s.laps).toEqual([]);
    expect(s.splitsKm).toEqual([]);
    expect(s.bestEfforts).toEqual([]);
    expect(s.polyline).toBe('');
    // calories not stated: the sport's MET rule (ACSM running) over the stated figures
    expect(s.caloriesMethod).toBe('met');
    expect(s.calories).toBeCloseTo(metCalories('running', sportConfig('running'), 70, 5000, 40, 1800), 9);
    expect(s.calories).toBeGreaterThan(300);
  });

  it('keeps stated calories; a sport without distance gets its MET over the duration', () => {
    const stated = compute('cycling', [entry({ distanceM: 20_000, calories: 432 })]);
    expect([stated.calories, stated.caloriesMethod]).toEqual([432, 'stated']);
    const gym = compute('strength', [entry({ distanceM: 0, durationS: 3600 })], 80);
    expect(gym.distanceM).toBe(0);
    expect(gym.avgPaceSPerKm).toBeNull();
    expect(gym.calories).toBeCloseTo(sportConfig('strength').met * 80, 9);
  });

  it('is an empty activity without an entry (as before the field existed)', () => {
    const none = compute('running', []);
    expect([none.elapsedS, none.distanceM, none.calories]).toEqual([0, 0, 0]);
  });
});
