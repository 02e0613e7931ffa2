import { describe, expect, it } from 'vitest';
import { allocColumns } from '../columns.js';
import { sportConfig } from '../config.js';
import { FLAG_PAUSED, U16_NONE } from '../types.js';
import { sensorStats } from './sensors.js';

/** n rows at 1 Hz with the given cadence and power per row */
function columns(cadence: (i: number) => number, power: (i: number) => number, n: number) {
  const c = allocColumns(n);
  c.length = n;
  for (let i = 0; i < n; i++) {
    c.ts[i] = 1_760_000_000_000 + i * 1000;
    c.cadence[i] = cadence(i);
    c.power[i] = power(i);
  }
  return c;
}

describe('sensors', () => {
  const cfg = sportConfig('cycling');

  it('cadence averages pedalling rows only; power counts zeros; constant power normalises to itself', () => {
    const n = 60;
    const c = columns(
      (i) => (i < 10 ? 0 : 90),
      () => 200,
      n,
    );
    const r = sensorStats(c, new Uint8Array(n), cfg);
    expect(r.cadenceAvg).toBe(90);
    expect(r.powerAvg).toBe(200);
    expect(r.powerMax).toBe(200);
    expect(r.normalizedPower).toBeCloseTo(200, 9);
  });

  it('paused rows count for neither; no power at all is null', () => {
    const n = 40;
    const c = columns(
      (i) => (i % 2 ? 100 : 60),
      () => U16_NONE,
      n,
    );
    const flags = new Uint8Array(n);
    for (let i = 0; i < n; i += 2) flags[i] = FLAG_PAUSED;
    expect(sensorStats(c, flags, cfg)).toEqual({
      cadenceAvg: 100,
      powerAvg: null,
      powerMax: null,
      normalizedPower: null,
    });
  });

  it('normalized power weighs surges above the average (Coggan), and falls back to the average when short', () => {
    const n = 600;
    const c = columns(
      () => 90,
      (i) => (Math.floor(i / 60) % 2 ? 300 : 100),
      n,
    );
    const r = sensorStats(c, new Uint8Array(n), cfg);
    expect(r.powerAvg).toBe(200);
    expect(r.normalizedPower!).toBeGreaterThan(210);
    const short = columns(
      () => 90,
      (i) => 100 + i,
      10,
    );
    expect(sensorStats(short, new Uint8Array(10), cfg).normalizedPower).toBeCloseTo(104.5, 9);
  });
});
