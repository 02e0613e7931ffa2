import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { avroTypes } from '../../schemas/avro.js';
import { generateSession, haversineM, type SynthOptions, type SynthSport, sampleAt } from './index.js';

const SPORTS: SynthSport[] = ['running', 'cycling', 'walking', 'hiking'];

function session(opts: SynthOptions) {
  return Array.from({ length: opts.durationS + 1 }, (_, i) => sampleAt(opts, i));
}

describe('sampleAt', () => {
  it('is deterministic per (options, index) and independent of call order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SPORTS),
        fc.integer(),
        fc.integer({ min: 0, max: 3600 }),
        (sport, seed, i) => {
          const opts = { sport, seed, durationS: 3600 };
          const a = sampleAt(opts, i);
          sampleAt(opts, Math.max(0, i - 1));
          expect(sampleAt({ ...opts }, i)).toEqual(a);
          expect(a.seq).toBe(i);
          expect(a.ts).toBe(1_760_000_000_000 + 1000 * i);
        },
      ),
    );
  });

  it('produces records the Avro Sample schema accepts', () => {
    for (const sport of SPORTS) {
      for (const s of session({ sport, seed: 2, durationS: 300, lapEveryM: 100 })) {
        expect(avroTypes.Sample.isValid(s)).toBe(true);
      }
    }
  });

  it('refuses indices outside [0, durationS]', () => {
    const opts: SynthOptions = { sport: 'running', seed: 1, durationS: 10 };
    expect(() => sampleAt(opts, 11)).toThrow(RangeError);
    expect(() => sampleAt(opts, -1)).toThrow(RangeError);
    expect(() => sampleAt(opts, 1.5)).toThrow(RangeError);
  });

  it('stops when generateSession stops and moves at sport-typical speeds otherwise', () => {
    for (const sport of SPORTS) {
      const opts: SynthOptions = { sport, seed: 7, durationS: 3600, gpsNoiseM: 0, jumpProbability: 0 };
      const { truth } = generateSession(opts);
      const samples = session(opts);
      const stopped = new Set<number>();
      for (const s of truth.stops) for (let k = s.start + 1; k < s.start + s.durationS; k++) stopped.add(k);
      let moved = 0;
      let movingSpeed = 0;
      for (let i = 1; i < samples.length; i++) {
        const a = samples[i - 1]!;
        const b = samples[i]!;
        const step = haversineM(a.lat!, a.lon!, b.lat!, b.lon!);
        if (stopped.has(i)) expect(step).toBeLessThan(1e-6);
        else {
          moved++;
          movingSpeed += step;
        }
      }
      const avg = movingSpeed / moved;
      const expected = truth.distanceM / truth.movingTimeS;
      // sampleAt positions ignore the slowdown on climbs, which is large for hikers
      expect(avg).toBeGreaterThan(0.6 * expected);
      expect(avg).toBeLessThan((sport === 'hiking' ? 2 : 1.4) * expected);
    }
  });

  it('adds GPS noise and jumps at roughly the configured levels', () => {
    const clean = session({ sport: 'running', seed: 3, durationS: 14_400, gpsNoiseM: 0, jumpProbability: 0 });
    const noisy = session({
      sport: 'running',
      seed: 3,
      durationS: 14_400,
      gpsNoiseM: 5,
      jumpProbability: 0.004,
    });
    const err = noisy.map((s, i) => haversineM(s.lat!, s.lon!, clean[i]!.lat!, clean[i]!.lon!));
    const jumped = err.filter((e) => e > 40).length;
    // one jump covers 2 samples on average
    expect(jumped).toBeGreaterThan(0.5 * 2 * 14_401 * 0.004);
    expect(jumped).toBeLessThan(1.6 * 2 * 14_401 * 0.004);
    const normal = err.filter((e) => e <= 40);
    const mean = normal.reduce((a, b) => a + b, 0) / normal.length;
    expect(Math.abs(mean - 5 * Math.sqrt(Math.PI / 2))).toBeLessThan(0.5 * 5 * Math.sqrt(Math.PI / 2));
  });

  it('keeps HR, cadence and power plausible', () => {
    const ride = session({ sport: 'cycling', seed: 4, durationS: 3600, hrSpikeProbability: 0 });
    for (const s of ride) {
      expect(s.hr).toBeGreaterThanOrEqual(85);
      expect(s.hr).toBeLessThanOrEqual(195);
      expect(s.power).toBeGreaterThanOrEqual(0);
      expect(s.power).toBeLessThan(800);
      expect(s.cadence === 0 || (s.cadence! >= 55 && s.cadence! <= 115)).toBe(true);
    }
    const run = session({ sport: 'running', seed: 4, durationS: 3600 });
    expect(run.filter((s) => s.hr === 0 || s.hr === 255 || s.hr! > 200).length).toBeGreaterThan(3);
    expect(run.every((s) => s.power === null && s.dist !== null)).toBe(true);
  });

  it('costs a few microseconds per call', () => {
    const opts: SynthOptions = { sport: 'cycling', seed: 5, durationS: 14_400 };
    for (let i = 0; i < 2000; i++) sampleAt(opts, i); // warm-up
    const t0 = process.cpuUsage();
    for (let i = 0; i <= 14_400; i++) sampleAt(opts, i);
    const dt = process.cpuUsage(t0);
    const usPerCall = (dt.user + dt.system) / 14_401;
    expect(usPerCall).toBeLessThan(50);
  });
});
