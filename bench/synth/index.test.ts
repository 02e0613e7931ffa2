import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { avroTypes } from '../../schemas/avro.js';
import { generateSession, haversineM, type SynthOptions, type SynthSport } from './index.js';

const SPORTS: SynthSport[] = ['running', 'cycling', 'walking', 'hiking'];

function horizontalErrors(opts: SynthOptions): { errors: number[]; inJump: boolean[] } {
  const { samples, truth } = generateSession(opts);
  const inJump = samples.map(() => false);
  for (const j of truth.jumps) for (let k = j.start; k < j.start + j.length; k++) inJump[k] = true;
  const errors = samples.map((s, i) =>
    haversineM(s.lat!, s.lon!, truth.truePositions[2 * i]!, truth.truePositions[2 * i + 1]!),
  );
  return { errors, inJump };
}

describe('generateSession: shape and determinism', () => {
  it('emits durationS + 1 samples at 1 Hz with seq 0..n-1', () => {
    const { samples, truth } = generateSession({ sport: 'running', seed: 1, durationS: 600, startTs: 5000 });
    expect(samples).toHaveLength(601);
    samples.forEach((s, i) => {
      expect(s.seq).toBe(i);
      expect(s.ts).toBe(5000 + 1000 * i);
    });
    expect(truth.elapsedS).toBe(600);
    expect(samples.at(-1)!.ts - samples[0]!.ts).toBe(truth.elapsedS * 1000);
    expect(truth.truePositions).toHaveLength(2 * 601);
    expect(truth.segmentSpeed).toHaveLength(600);
  });

  it('is a pure function of its options', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SPORTS), fc.integer(), (sport, seed) => {
        const opts = { sport, seed, durationS: 900 };
        expect(generateSession(opts)).toEqual(generateSession({ ...opts }));
      }),
      { numRuns: 20 },
    );
    const a = generateSession({ sport: 'cycling', seed: 1, durationS: 600 });
    const b = generateSession({ sport: 'cycling', seed: 2, durationS: 600 });
    expect(a.truth.distanceM).not.toBe(b.truth.distanceM);
  });

  it('keeps the truth when only the noise options change', () => {
    const base = generateSession({ sport: 'running', seed: 9, durationS: 1800 });
    const noisy = generateSession({
      sport: 'running',
      seed: 9,
      durationS: 1800,
      gpsNoiseM: 8,
      jumpProbability: 0.02,
      altNoiseM: 6,
      hrSpikeProbability: 0.05,
      accuracyReported: false,
      lapEveryM: 1000,
    });
    const { jumps: _j, hrArtefacts: _h, ...truthA } = base.truth;
    const { jumps: _k, hrArtefacts: _i, ...truthB } = noisy.truth;
    expect(truthB).toEqual(truthA);
  });

  it('produces records the Avro Sample schema accepts', () => {
    for (const sport of SPORTS) {
      const { samples } = generateSession({ sport, seed: 3, durationS: 300, lapEveryM: 200 });
      for (const s of samples) expect(avroTypes.Sample.isValid(s)).toBe(true);
    }
  });

  it('rejects invalid options naming the option', () => {
    expect(() => generateSession({ sport: 'running', seed: 1, durationS: 0 })).toThrow(/durationS/);
    expect(() => generateSession({ sport: 'running', seed: 1.5, durationS: 10 })).toThrow(/seed/);
    expect(() => generateSession({ sport: 'running', seed: 1, durationS: 10, gpsNoiseM: -1 })).toThrow(
      /gpsNoiseM/,
    );
    expect(() => generateSession({ sport: 'strength' as SynthSport, seed: 1, durationS: 10 })).toThrow(
      /sport/,
    );
    expect(() =>
      generateSession({ sport: 'running', seed: 1, durationS: 10, start: { lat: 89, lon: 0 } }),
    ).toThrow(/start\.lat/);
  });
});

describe('generateSession: truth invariants', () => {
  it('holds for any sport, seed, length and stop count', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SPORTS),
        fc.integer(),
        fc.integer({ min: 1, max: 3600 }),
        fc.integer({ min: 0, max: 12 }),
        (sport, seed, durationS, stops) => {
          const { samples, truth } = generateSession({ sport, seed, durationS, stops });
          const n = durationS + 1;
          expect(samples).toHaveLength(n);
          // distance = integral of the true speed
          const sumV = truth.segmentSpeed.reduce((a, b) => a + b, 0);
          expect(Math.abs(truth.distanceM - sumV)).toBeLessThanOrEqual(0.005 * sumV + 1e-6);
          expect(truth.cumDistanceM[n - 1]).toBe(truth.distanceM);
          expect(truth.cumDistanceM.every((d, i) => i === 0 || d >= truth.cumDistanceM[i - 1]!)).toBe(true);
          // moving time = elapsed minus stops; speed is exactly 0 in stops and > 0 elsewhere
          const stopped = truth.stops.reduce((a, s) => a + s.durationS, 0);
          expect(truth.movingTimeS).toBe(truth.elapsedS - stopped);
          expect(truth.segmentSpeed.filter((v) => v > 0)).toHaveLength(truth.movingTimeS);
          expect(truth.stops.length).toBeLessThanOrEqual(stops);
          for (const s of truth.stops) {
            expect(s.durationS).toBeGreaterThanOrEqual(20);
            expect(s.durationS).toBeLessThanOrEqual(120);
            expect(truth.segmentSpeed.subarray(s.start, s.start + s.durationS).every((v) => v === 0)).toBe(
              true,
            );
          }
          // elevation
          expect(truth.elevationGainM).toBeGreaterThanOrEqual(0);
          expect(truth.elevationLossM).toBeGreaterThanOrEqual(0);
          expect(truth.elevationGainM - truth.elevationLossM).toBeCloseTo(
            truth.trueAlt[n - 1]! - truth.trueAlt[0]!,
            6,
          );
          expect(truth.minAltM).toBeLessThanOrEqual(truth.maxAltM);
          expect(truth.avgHr).toBeLessThanOrEqual(truth.maxHr);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('honours the requested number of stops in a long enough session', () => {
    const { truth } = generateSession({ sport: 'cycling', seed: 4, durationS: 7200, stops: 5 });
    expect(truth.stops).toHaveLength(5);
    expect(truth.movingTimeS).toBeLessThan(7200 - 5 * 20 + 1);
  });

  it('keeps the device reporting noisy positions while stopped (the moving-time trap)', () => {
    const { samples, truth } = generateSession({
      sport: 'running',
      seed: 5,
      durationS: 3600,
      jumpProbability: 0,
    });
    const stop = truth.stops[0]!;
    let wander = 0;
    for (let k = stop.start + 1; k < stop.start + stop.durationS; k++) {
      const a = samples[k - 1]!;
      const b = samples[k]!;
      wander += haversineM(a.lat!, a.lon!, b.lat!, b.lon!);
      expect(b.speed).toBeLessThan(1);
      expect(b.cadence).toBe(0);
    }
    expect(wander).toBeGreaterThan(0.2 * (stop.durationS - 1));
  });
});

describe('generateSession: noise as configured', () => {
  it('has a mean horizontal error near sigma * sqrt(pi / 2) outside jumps', () => {
    for (const gpsNoiseM of [3, 5, 8]) {
      for (const seed of [1, 2, 3]) {
        const { errors, inJump } = horizontalErrors({ sport: 'running', seed, durationS: 3600, gpsNoiseM });
        const clean = errors.filter((_, i) => !inJump[i]);
        const mean = clean.reduce((a, b) => a + b, 0) / clean.length;
        const expected = gpsNoiseM * Math.sqrt(Math.PI / 2);
        expect(Math.abs(mean - expected)).toBeLessThan(0.5 * expected);
      }
    }
  });

  it('injects 50-300 m jumps lasting 1-3 samples at the configured rate', () => {
    const jumpProbability = 0.004;
    let jumps = 0;
    let samples = 0;
    for (const seed of [1, 2, 3, 4]) {
      const { truth } = generateSession({ sport: 'cycling', seed, durationS: 14_400, jumpProbability });
      const { errors } = horizontalErrors({ sport: 'cycling', seed, durationS: 14_400, jumpProbability });
      jumps += truth.jumps.length;
      samples += 14_401;
      for (const j of truth.jumps) {
        expect(j.length).toBeGreaterThanOrEqual(1);
        expect(j.length).toBeLessThanOrEqual(3);
        expect(j.offsetM).toBeGreaterThanOrEqual(50);
        expect(j.offsetM).toBeLessThanOrEqual(300);
        for (let k = j.start; k < j.start + j.length; k++) expect(errors[k]).toBeGreaterThan(20);
      }
    }
    const expected = samples * jumpProbability;
    expect(Math.abs(jumps - expected)).toBeLessThan(0.25 * expected);
    expect(
      generateSession({ sport: 'cycling', seed: 1, durationS: 3600, jumpProbability: 0 }).truth.jumps,
    ).toEqual([]);
  });

  it('gives correlated GPS error (Gauss-Markov, tau 10-30 s)', () => {
    const { errors } = horizontalErrors({ sport: 'walking', seed: 8, durationS: 7200, jumpProbability: 0 });
    const { samples, truth } = generateSession({
      sport: 'walking',
      seed: 8,
      durationS: 7200,
      jumpProbability: 0,
    });
    const north = samples.map((s, i) => (s.lat! - truth.truePositions[2 * i]!) * 111_195);
    const lagCorr = (lag: number): number => {
      let c = 0;
      let v = 0;
      for (let i = lag; i < north.length; i++) c += north[i]! * north[i - lag]!;
      for (const x of north) v += x * x;
      return c / v;
    };
    expect(lagCorr(1)).toBeGreaterThan(0.6);
    expect(lagCorr(120)).toBeLessThan(0.4);
    expect(errors.length).toBe(7201);
  });

  it('replaces HR with 0, 255 or a doubled value at the configured rate and keeps the rest true', () => {
    const { samples, truth } = generateSession({
      sport: 'running',
      seed: 2,
      durationS: 14_400,
      hrSpikeProbability: 0.005,
    });
    const expected = 14_401 * 0.005;
    expect(Math.abs(truth.hrArtefacts.length - expected)).toBeLessThan(0.35 * expected);
    const artefact = new Set(truth.hrArtefacts.map((a) => a.index));
    samples.forEach((s, i) => {
      if (artefact.has(i)) expect([0, 255, Math.min(255, 2 * Math.round(truth.trueHr[i]!))]).toContain(s.hr);
      else expect(s.hr).toBe(Math.round(truth.trueHr[i]!));
    });
    const altErr = samples.map((s, i) => s.alt! - truth.trueAlt[i]!);
    const sd = Math.sqrt(altErr.reduce((a, b) => a + b * b, 0) / altErr.length);
    expect(sd).toBeGreaterThan(1.5);
    expect(sd).toBeLessThan(4.5);
  });

  it('reports a biased cumulative distance on watches and none on phones, and laps on true distance', () => {
    const run = generateSession({ sport: 'running', seed: 6, durationS: 3600, lapEveryM: 1000 });
    expect(run.truth.distBias).toBeGreaterThan(0.002);
    expect(run.truth.distBias).toBeLessThan(0.008);
    run.samples.forEach((s, i) => {
      expect(s.dist).toBeCloseTo(run.truth.cumDistanceM[i]! * (1 + run.truth.distBias), 6);
    });
    expect(run.samples.filter((s) => s.lap)).toHaveLength(Math.floor(run.truth.distanceM / 1000));
    const walk = generateSession({ sport: 'walking', seed: 6, durationS: 600 });
    expect(walk.samples.every((s) => s.dist === null && s.cadence === null && s.power === null)).toBe(true);
    expect(walk.samples.every((s) => !s.lap)).toBe(true);
    const quiet = generateSession({ sport: 'walking', seed: 6, durationS: 600, accuracyReported: false });
    expect(quiet.samples.every((s) => s.acc === null)).toBe(true);
    expect(walk.samples.every((s) => s.acc !== null && s.acc >= 1 && s.acc < 10)).toBe(true);
  });
});

describe('generateSession: realism per sport', () => {
  const hour = (sport: SynthSport, seed: number) => generateSession({ sport, seed, durationS: 3600 });

  it('moves at sport-typical speeds and climbs sport-typical amounts', () => {
    const ranges: Record<SynthSport, { v: [number, number]; gainPerH: [number, number] }> = {
      running: { v: [2.5, 4.5], gainPerH: [10, 400] },
      cycling: { v: [5, 12], gainPerH: [100, 1200] },
      walking: { v: [1.1, 1.7], gainPerH: [5, 250] },
      hiking: { v: [0.45, 1.5], gainPerH: [0, 900] },
    };
    for (const sport of SPORTS) {
      for (let seed = 0; seed < 8; seed++) {
        const { truth } = hour(sport, seed);
        const avg = truth.distanceM / truth.movingTimeS;
        expect(avg).toBeGreaterThan(ranges[sport].v[0]);
        expect(avg).toBeLessThan(ranges[sport].v[1]);
        expect(truth.elevationGainM).toBeGreaterThan(ranges[sport].gainPerH[0]);
        expect(truth.elevationGainM).toBeLessThan(ranges[sport].gainPerH[1]);
        // long descents let a hiker's HR sag below 110
        expect(truth.avgHr).toBeGreaterThan(sport === 'running' || sport === 'cycling' ? 120 : 100);
        expect(truth.avgHr).toBeLessThan(175);
        expect(truth.maxHr).toBeLessThan(195);
      }
    }
  });

  it('slows cyclists on climbs while their power goes up', () => {
    const { samples, truth } = generateSession({ sport: 'cycling', seed: 11, durationS: 7200, stops: 0 });
    const up: number[] = [];
    const flat: number[] = [];
    const upPower: number[] = [];
    const flatPower: number[] = [];
    for (let i = 30; i < 7200; i++) {
      const g = (truth.trueAlt[i + 1]! - truth.trueAlt[i]!) / Math.max(truth.segmentSpeed[i]!, 0.1);
      if (g > 0.03) {
        up.push(truth.segmentSpeed[i]!);
        upPower.push(samples[i]!.power!);
      } else if (Math.abs(g) < 0.01) {
        flat.push(truth.segmentSpeed[i]!);
        flatPower.push(samples[i]!.power!);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(up.length).toBeGreaterThan(100);
    expect(mean(up)).toBeLessThan(0.8 * mean(flat));
    expect(mean(upPower)).toBeGreaterThan(mean(flatPower));
    expect(samples.every((s) => s.cadence !== null && s.power !== null)).toBe(true);
  });

  it('reports running cadence in steps per minute and HR following effort with lag', () => {
    const { samples, truth } = generateSession({ sport: 'running', seed: 12, durationS: 3600 });
    const moving = samples.filter((_, i) => i < 3600 && truth.segmentSpeed[i]! > 2);
    for (const s of moving) {
      expect(s.cadence).toBeGreaterThanOrEqual(150);
      expect(s.cadence).toBeLessThanOrEqual(195);
    }
    // HR climbs from its resting start: lag, not a step
    expect(truth.trueHr[0]!).toBeLessThan(truth.trueHr[120]!);
    expect(truth.trueHr[5]! - truth.trueHr[0]!).toBeLessThan(15);
  });
});

describe('generateSession: cost', () => {
  it('generates a 4 h session well under 50 ms of CPU', () => {
    // CPU time, not wall time: the test machine is shared and wall time swings with its load.
    generateSession({ sport: 'cycling', seed: 0, durationS: 14_400 }); // warm-up
    const times: number[] = [];
    for (let seed = 1; seed <= 5; seed++) {
      const t0 = process.cpuUsage();
      generateSession({ sport: 'cycling', seed, durationS: 14_400 });
      const dt = process.cpuUsage(t0);
      times.push((dt.user + dt.system) / 1000);
    }
    times.sort((a, b) => a - b);
    expect(times[2]).toBeLessThan(50);
  });
});
