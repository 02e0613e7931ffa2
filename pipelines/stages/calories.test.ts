import { describe, expect, it } from 'vitest';
import { T0 } from '../../test/support/samples.js';
import { sportConfig } from '../config.js';
import { FLAG_PAUSED } from '../types.js';
import { calories, metCalories } from './calories.js';

const run = sportConfig('running');

/** 600 s session at 1 Hz with a constant HR (NaN: none) */
function hrSession(bpm: number, n = 601) {
  return {
    ts: Float64Array.from({ length: n }, (_, i) => T0 + i * 1000),
    hr: new Float32Array(n).fill(bpm),
    flags: new Uint8Array(n),
    n,
  };
}

describe('calories', () => {
  it('running MET (ACSM): 10 km, 100 m gain, 60 min, 70 kg', () => {
    // VO2 = 0.2·10000 + 0.9·100 + 3.5·60 = 2300 ml/kg; × 70 kg × 5 kcal/l
    expect(metCalories('running', run, 70, 10_000, 100, 3600)).toBeCloseTo(805, 9);
  });

  it('walking/hiking MET (ACSM walking): 5 km, 50 m gain, 60 min, 70 kg', () => {
    // 0.1·5000 + 1.8·50 + 3.5·60 = 800 ml/kg
    expect(metCalories('walking', sportConfig('walking'), 70, 5000, 50, 3600)).toBeCloseTo(280, 9);
    expect(metCalories('hiking', sportConfig('hiking'), 70, 5000, 50, 3600)).toBeCloseTo(280, 9);
  });

  it('cycling MET by speed band, strength by the sport MET', () => {
    // 25 km/h is in the 22.5–25.7 band: 10 MET
    expect(metCalories('cycling', sportConfig('cycling'), 70, 25_000, 300, 3600)).toBeCloseTo(700, 9);
    // 15 km/h: 4 MET
    expect(metCalories('cycling', sportConfig('cycling'), 70, 15_000, 0, 3600)).toBeCloseTo(280, 9);
    expect(metCalories('strength', sportConfig('strength'), 80, 0, 0, 3600)).toBeCloseTo(3.5 * 80, 9);
    expect(metCalories('running', run, 70, 0, 0, 0)).toBe(0);
  });

  it('HR (Keytel 2005), men: 10 min at 150 bpm, 70 kg, 35 y', () => {
    const s = hrSession(150);
    const r = calories({
      sport: 'running',
      cfg: run,
      athlete: {},
      startTs: T0,
      ...s,
      distanceM: 2000,
      gainM: 0,
      movingS: 600,
      metTimeS: 600,
    });
    const perMin = (-55.0969 + 0.6309 * 150 + 0.1988 * 70 + 0.2017 * 35) / 4.184;
    expect(r.method).toBe('hr');
    expect(r.kcal).toBeCloseTo(perMin * 10, 6);
  });

  it('HR (Keytel 2005), women, with age from the birth year and a paused minute', () => {
    const s = hrSession(140);
    for (let i = 301; i <= 360; i++) s.flags[i] = FLAG_PAUSED;
    const startTs = Date.UTC(2026, 5, 1);
    const r = calories({
      sport: 'running',
      cfg: run,
      athlete: { sex: 'f', weightKg: 60, birthYear: 1996 },
      startTs,
      ...s,
      distanceM: 2000,
      gainM: 0,
      movingS: 540,
      metTimeS: 540,
    });
    const perMin = (-20.4022 + 0.4472 * 140 - 0.1263 * 60 + 0.074 * 30) / 4.184;
    expect(r.kcal).toBeCloseTo(perMin * 9, 6);
  });

  it('falls back to MET when HR covers under half of the moving time', () => {
    const s = hrSession(Number.NaN);
    s.hr.fill(150, 0, 200); // 199 s of HR intervals out of 600
    const r = calories({
      sport: 'running',
      cfg: run,
      athlete: { weightKg: 70 },
      startTs: T0,
      ...s,
      distanceM: 2000,
      gainM: 0,
      movingS: 600,
      metTimeS: 600,
    });
    expect(r.method).toBe('met');
    expect(r.kcal).toBeCloseTo(((0.2 * 2000 + 3.5 * 10) * 70 * 5) / 1000, 9);
  });

  it('ignores an implausible body weight (uses 70 kg)', () => {
    const args = {
      sport: 'running' as const,
      cfg: run,
      startTs: T0,
      ...hrSession(Number.NaN),
      distanceM: 1000,
      gainM: 0,
      movingS: 600,
      metTimeS: 600,
    };
    expect(calories({ ...args, athlete: { weightKg: 5 } }).kcal).toBe(
      calories({ ...args, athlete: { weightKg: 70 } }).kcal,
    );
    expect(calories({ ...args, athlete: { weightKg: 90 } }).kcal).toBeGreaterThan(
      calories({ ...args, athlete: { weightKg: 70 } }).kcal,
    );
  });
});
