import { expect, test } from 'vitest';
import { CITIES, DEFAULT_FAULTS, FaultDraws, planWorkout, SPORT_MIX } from './plan.js';

const o = { workouts: 2000, durationS: 600, rampS: 60, seed: 7, tracers: 100 };

test('the plan is a pure function of its options and the seed', () => {
  for (const i of [0, 1, 150, 1999]) expect(planWorkout(o, i)).toEqual(planWorkout({ ...o }, i));
  expect(planWorkout(o, 500)).not.toEqual(planWorkout({ ...o, seed: 8 }, 500));
});

test('starts spread over the ramp, cities and sports in their shares, faults only off the tracers', () => {
  const plans = Array.from({ length: o.workouts }, (_, i) => planWorkout(o, i));
  const starts = plans.map((p) => p.startOffsetMs);
  expect(Math.min(...starts)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...starts)).toBeLessThanOrEqual(o.rampS * 1000 + 1000);
  expect(new Set(plans.map((p) => p.city)).size).toBe(CITIES.length);
  for (const [sport, share] of SPORT_MIX) {
    const got = plans.filter((p) => p.sport === sport).length / plans.length;
    expect(Math.abs(got - share)).toBeLessThan(0.04);
  }
  expect(plans.slice(0, 100).every((p) => p.tracer && p.dropout === null)).toBe(true);
  const drops = plans.slice(100).filter((p) => p.dropout);
  expect(Math.abs(drops.length / 1900 - DEFAULT_FAULTS.dropout)).toBeLessThan(0.03);
  for (const p of drops) {
    expect(p.dropout!.fromSeq).toBeGreaterThan(0);
    expect(p.dropout!.toSeq).toBeGreaterThan(p.dropout!.fromSeq);
    expect(p.dropout!.toSeq).toBeLessThanOrEqual(o.durationS);
  }
  // starts within ~5 km of their city
  for (const p of plans) {
    const c = CITIES.find((x) => x.name === p.city)!;
    expect(Math.abs(p.start.lat - c.lat)).toBeLessThanOrEqual(0.045);
  }
});

test('fault draws: same seed same sequence, off for tracers, rates as configured', () => {
  const a = new FaultDraws(42, DEFAULT_FAULTS, true);
  const b = new FaultDraws(42, DEFAULT_FAULTS, true);
  const off = new FaultDraws(42, DEFAULT_FAULTS, false);
  let dup = 0;
  let reorder = 0;
  let same = true;
  let offAny = false;
  for (let i = 0; i < 20_000; i++) {
    const x = a.next();
    const y = b.next();
    const z = off.next();
    same &&= x.duplicate === y.duplicate && x.reorder === y.reorder;
    offAny ||= z.duplicate || z.reorder;
    if (x.duplicate) dup++;
    if (x.reorder) reorder++;
  }
  expect(same).toBe(true);
  expect(offAny).toBe(false);
  expect(Math.abs(dup / 20_000 - DEFAULT_FAULTS.duplicate)).toBeLessThan(0.004);
  expect(Math.abs(reorder / 20_000 - DEFAULT_FAULTS.reorder)).toBeLessThan(0.005);
});
