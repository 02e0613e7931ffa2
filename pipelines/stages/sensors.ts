import type { SportConfig } from '../config.js';
import { FLAG_PAUSED, type SampleColumns, U16_NONE } from '../types.js';

/**
 * Sensors: cadence and power over the session.
 *
 * Cadence average (unpaused rows with cadence > 0: coasting and standing are not cadence), power
 * average and max (unpaused rows with power, zeros included), and normalized power (Coggan:
 * 4th root of the mean of the 4th power of the 30 s rolling average), null without power.
 */
export function sensorStats(
  c: SampleColumns,
  flags: Uint8Array,
  cfg: SportConfig,
): {
  cadenceAvg: number | null;
  powerAvg: number | null;
  powerMax: number | null;
  normalizedPower: number | null;
} {
  const n = c.length;
  let cs = 0;
  let cn = 0;
  let ps = 0;
  let pn = 0;
  let pmax = 0;
  // normalized power over a 30-sample window (1 Hz devices), gaps capped
  const win = new Float64Array(30);
  let wsum = 0;
  let wi = 0;
  let wfill = 0;
  let np4 = 0;
  let npn = 0;
  const gapMs = cfg.maxGapS * 1000;
  for (let i = 0; i < n; i++) {
    if (i > 0 && c.ts[i]! - c.ts[i - 1]! > gapMs) {
      win.fill(0);
      wsum = 0;
      wfill = 0;
    }
    const paused = (flags[i]! & FLAG_PAUSED) !== 0;
    const cad = c.cadence[i]!;
    if (!paused && cad !== U16_NONE && cad > 0) {
      cs += cad;
      cn++;
    }
    const p = c.power[i]!;
    if (p === U16_NONE || paused) continue;
    ps += p;
    pn++;
    if (p > pmax) pmax = p;
    wsum += p - win[wi]!;
    win[wi] = p;
    wi = (wi + 1) % 30;
    if (wfill < 30) wfill++;
    if (wfill === 30) {
      const a = wsum / 30;
      np4 += a * a * a * a;
      npn++;
    }
  }
  return {
    cadenceAvg: cn > 0 ? cs / cn : null,
    powerAvg: pn > 0 ? ps / pn : null,
    powerMax: pn > 0 ? pmax : null,
    normalizedPower: npn > 0 ? (np4 / npn) ** 0.25 : pn > 0 ? ps / pn : null,
  };
}
