import { describe, expect, it } from 'vitest';
import type { Sample } from '../schemas/types.js';
import { northLine, sample, T0 } from '../test/support/samples.js';
import { activityIdFor, computeActivity } from './compute-activity.js';
import { ALGORITHM_VERSION, UnknownAlgorithmVersionError } from './config.js';
import { type ComputeInput, FLAG_LAP } from './types.js';

const input = (samples: ComputeInput['samples'], over: Partial<ComputeInput> = {}): ComputeInput => ({
  userId: 'u1',
  deviceId: 'd1',
  sessionId: 's1',
  sport: 'running',
  samples,
  controls: [],
  sets: [],
  athlete: { maxHr: 190 },
  ...over,
});

/** 2 km due north at 4 m/s, HR 150, climbing 0.02 m per metre (40 m), lap button at 1 km */
function twoKm(): Sample[] {
  return northLine(500, 4).map((s, i) => ({ ...s, hr: 150, alt: 300 + i * 4 * 0.02, lap: i === 250 }));
}

describe('roll-up', () => {
  it('activity id: a deterministic UUIDv5 of (user, device, session)', () => {
    const id = activityIdFor('u1', 'd1', 's1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(activityIdFor('u1', 'd1', 's1')).toBe(id);
    expect(activityIdFor('u1', 'd1', 's2')).not.toBe(id);
    // a session is (device, client session id): another device reusing the session id is another activity
    expect(activityIdFor('u1', 'd2', 's1')).not.toBe(id);
    // the separators keep ('u1', 'd1', 's1') and ('u1d', '1', 's1') / ('u1', 'd1s', '1') apart
    expect(activityIdFor('u1d', '1', 's1')).not.toBe(id);
    expect(activityIdFor('u1', 'd1s', '1')).not.toBe(id);
  });

  it('assembles every stage on a 2 km straight run with a known answer', () => {
    const { summary: s, samples, failures } = computeActivity(input(twoKm()));
    expect(failures).toEqual([]);
    expect(s.activityId).toBe(activityIdFor('u1', 'd1', 's1'));
    expect(s.algorithmVersion).toBe(ALGORITHM_VERSION);
    expect(s.startTs).toBe(T0);
    expect(s.elapsedS).toBe(500);
    expect(s.movingS).toBe(500);
    expect(Math.abs(s.distanceM - 2000)).toBeLessThan(1);
    expect(s.avgPaceSPerKm).toBeCloseTo(250, 0);
    expect(s.elevGainM).toBeCloseTo(40, 0);
    expect(s.elevLossM).toBe(0);
    expect(s.hr?.avg).toBe(150);
    expect(s.laps.map((l) => l.elapsedS)).toEqual([250, 250]);
    expect(s.splitsKm.map((x) => Math.round(x.elapsedS))).toEqual([250, 250]);
    expect(s.bestEfforts.map((e) => e.name)).toEqual(['400 m', '1 km', '1 mile']);
    expect(s.caloriesMethod).toBe('hr');
    expect(s.sampleCount).toBe(501);
    expect(samples.length).toBe(501);
    expect(samples.distance[500]).toBe(s.distanceM);
    expect(samples.flags[250]! & FLAG_LAP).toBe(FLAG_LAP);
  });

  it('is order- and duplicate-insensitive, and reports unusable samples by input index', () => {
    const base = twoKm();
    const a = computeActivity(input(base)).summary;
    const shuffled = [...base].reverse();
    shuffled.splice(7, 0, base[3]!, base[3]!, { ...base[9]!, ts: Number.NaN });
    const r = computeActivity(input(shuffled));
    expect(r.summary).toEqual({ ...a, duplicateCount: 2 });
    expect(r.failures).toEqual([{ index: 9, error: expect.objectContaining({ code: 'ts_invalid' }) }]);
  });

  it('replays history under the version it was computed with', () => {
    // a 3.5 m rise over 1 km and back: a climb under 2026.11-1 (3 m hysteresis), not under 4 m
    const bump = northLine(500, 4).map((s, i) => ({ ...s, alt: 300 + 3.5 * Math.sin((Math.PI * i) / 500) }));
    expect(computeActivity(input(bump), { version: '2026.11-1' }).summary.elevGainM).toBeGreaterThan(3);
    expect(computeActivity(input(bump), { version: '2026.11-3' }).summary.elevGainM).toBe(0);
    // 2026.12-1 on: a noise-free profile is quiet (its estimated noise is far under 1 m), so it is
    // counted with the 2 m hysteresis and the 3.5 m rise is a climb
    const now = computeActivity(input(bump)).summary;
    expect(now.algorithmVersion).toBe(ALGORITHM_VERSION);
    expect(now.elevGainM).toBeGreaterThan(3.4);
    expect(now.elevGainM).toBeLessThan(3.6);
  });

  it('an unknown algorithm version is a typed error', () => {
    expect(() => computeActivity(input(twoKm()), { version: '1999.01-1' })).toThrow(
      UnknownAlgorithmVersionError,
    );
  });

  it('without GPS, distance comes from the device counter', () => {
    const samples = northLine(100, 3, { lat: null, lon: null }).map((s, i) => ({ ...s, dist: i * 3 }));
    const s = computeActivity(input(samples)).summary;
    expect(s.distanceM).toBe(300);
    expect(s.deviceDistanceM).toBe(300);
    expect(s.rawDistanceM).toBe(0);
    expect(s.polyline).toBe('');
  });

  it('without GPS, distance is the counter maximum, as deviceDistanceM (2026.11-3)', () => {
    // the first record already counts 4.76 m covered before it was written (edge 530 indoor ride:
    // records from 4.76 m to 6873.6 m, session total_distance 6873.6 m)
    const samples = northLine(100, 3, { lat: null, lon: null }).map((s, i) => ({ ...s, dist: 4.76 + i * 3 }));
    const { summary: s, samples: rows } = computeActivity(input(samples));
    const counterMax = Math.fround(4.76 + 300);
    expect(s.deviceDistanceM).toBe(counterMax);
    expect(s.distanceM).toBe(counterMax);
    // rows measure from the first record, as on the GPS path
    expect(rows.distance[0]).toBe(0);
    expect(rows.distance[100]).toBeCloseTo(300, 3);
    // 2026.11-2's total was the rise from the first record
    const old = computeActivity(input(samples), { version: '2026.11-2' }).summary;
    expect(old.deviceDistanceM).toBe(counterMax);
    expect(old.distanceM).toBe(rows.distance[100]);
  });

  it('without GPS, a counter that starts past a split length still gives finite splits', () => {
    // opening samples lost: the first record arrives with 1.5 km on the counter
    const samples = northLine(1000, 3, { lat: null, lon: null }).map((s, i) => ({
      ...s,
      dist: 1500 + i * 3,
    }));
    const s = computeActivity(input(samples)).summary;
    expect(s.distanceM).toBe(4500);
    expect(s.splitsKm.map((x) => Math.round(x.distanceM))).toEqual([1000, 1000, 1000]);
    expect(s.splitsKm.every((x) => Number.isFinite(x.elapsedS) && x.elapsedS > 0)).toBe(true);
  });

  it('the session and lap max HR are the highest accepted reading (2026.11-3)', () => {
    // one 1 s peak of 158 in a steady 150: the smoothed series never reaches it
    const samples = twoKm().map((s, i) => ({ ...s, hr: i === 400 ? 158 : 150 }));
    const s = computeActivity(input(samples)).summary;
    expect(s.hr!.max).toBe(158);
    expect(s.laps.map((l) => l.maxHr)).toEqual([150, 158]);
    const old = computeActivity(input(samples), { version: '2026.11-2' }).summary;
    expect(old.hr!.max).toBeCloseTo(151.6, 4);
    expect(old.laps.map((l) => l.maxHr)).toEqual([150, old.hr!.max]);
  });
});

describe('roll-up: 2026.12-1', () => {
  it('follows the device odometer where the rows carry one; the track stays on the fixes', () => {
    // 2 km north at 4 m/s; the odometer (wheel sensor) reads 1.5 % long, the GPS is exact
    const samples = northLine(500, 4).map((s, i) => ({ ...s, dist: i * 4 * 1.015 }));
    const now = computeActivity(input(samples));
    expect(now.summary.distanceM).toBeCloseTo(2030, 6);
    expect(now.samples.distance[250]).toBeCloseTo(1015, 3);
    expect(Math.abs(now.summary.rawDistanceM - 2000)).toBeLessThan(0.5);
    const old = computeActivity(input(samples), { version: '2026.11-3' }).summary;
    expect(Math.abs(old.distanceM - 2000)).toBeLessThan(1);
    // a counter on fewer than half the rows is not followed
    const sparse = samples.map((s, i) => (i % 3 === 0 ? s : { ...s, dist: null }));
    expect(Math.abs(computeActivity(input(sparse)).summary.distanceM - 2000)).toBeLessThan(1);
  });
});

describe('roll-up: 2026.12-2', () => {
  // a phone-like track: fixes 4 s apart at 2.5 m/s (10 m chords) through S-bends of 25 m radius
  // (the heading turns 0.4 rad per fix, the turn flips every 4 fixes), no reported accuracy, the
  // fixes exactly on the path: the track itself shows them clean (estimated noise under 2 m)
  function sBends(): Sample[] {
    const m = 111_320;
    const kx = m * Math.cos((45 * Math.PI) / 180);
    const out: Sample[] = [];
    let x = 0;
    let y = 0;
    let h = 0;
    for (let i = 0; i < 100; i++) {
      out.push(sample(4 * i, { seq: i, lat: 45 + y / m, lon: 13 + x / kx }));
      h += (Math.floor(i / 4) % 2 ? -1 : 1) * 0.4;
      x += 10 * Math.sin(h);
      y += 10 * Math.cos(h);
    }
    return out;
  }

  it('smooths a clean track without reported accuracy as its estimated noise, under the 2 m floor', () => {
    const samples = sBends();
    const now = computeActivity(input(samples));
    const raw = now.summary.rawDistanceM;
    expect(raw).toBeGreaterThan(980);
    // 2026.12-1 floored the estimate at 2 m and cut the bends between the fixes (−1.5 %)
    const old = computeActivity(input(samples), { version: '2026.12-1' }).summary;
    expect((raw - old.distanceM) / raw).toBeGreaterThan(0.012);
    expect((raw - now.summary.distanceM) / raw).toBeLessThan(0.01);
    expect(now.summary.distanceM).toBeGreaterThan(old.distanceM);
  });
});
