import { describe, expect, it } from 'vitest';
import { sportConfig } from '../config.js';
import { FLAG_HR_ARTEFACT } from '../types.js';
import { heartRate, maxHrFor } from './heart-rate.js';

/** rows at the given offsets (s) with the given bpm */
function series(offsetsS: readonly number[], bpm: readonly number[]) {
  return {
    ts: Float64Array.from(offsetsS, (s) => s * 1000),
    hr: Uint8Array.from(bpm),
    n: bpm.length,
  };
}
const ride = (version?: string) => sportConfig('cycling', version);

describe('heart-rate', () => {
  it('drops 0/255/doubled artefacts and computes zones and TRIMP', () => {
    const n = 601;
    const ts = Float64Array.from({ length: n }, (_, i) => i * 1000);
    const hr = new Uint8Array(n).fill(150);
    hr[100] = 255;
    hr[200] = 0;
    hr[300] = 255;
    hr[400] = 30;
    const flags = new Uint8Array(n);
    const r = heartRate(ts, hr, n, sportConfig('running'), { maxHr: 200, restHr: 50 }, flags);
    expect(r.artefacts).toBe(3);
    expect(r.summary!.avg).toBeCloseTo(150, 5);
    expect(r.summary!.max).toBe(150);
    // 75 % of max; the 4 rows without a usable value own no time
    expect(r.summary!.zonesS[2]).toBe(596);
    // 596 s at HRr 2/3: min · HRr · 0.64 · e^(1.92 · HRr)
    expect(r.summary!.trimp).toBeCloseTo((596 / 60) * (2 / 3) * 0.64 * Math.exp(1.92 * (2 / 3)), 6);
  });

  it('derives max HR from age (Tanaka) when the athlete has none', () => {
    expect(maxHrFor({ birthYear: 1986 }, Date.UTC(2026, 0, 1))).toEqual({
      maxHr: 208 - 0.7 * 40,
      source: 'age',
    });
  });

  it('max is the highest accepted value (2026.11-3), not the smoothed one (2026.11-2)', () => {
    // the fenix 5 ride's last five records, 6, 4, 1, 1 s apart: the peak is the last one
    const { ts, hr, n } = series([0, 6, 10, 11, 12], [100, 103, 108, 111, 114]);
    const now = heartRate(ts, hr, n, ride(), {}, new Uint8Array(n));
    expect(now.summary!.max).toBe(114);
    expect(Array.from(now.clean)).toEqual([100, 103, 108, 111, 114]);
    // under 2026.11-2 the centred 5-sample mean at the last row is (108 + 111 + 114) / 3
    expect(heartRate(ts, hr, n, ride('2026.11-2'), {}, new Uint8Array(n)).summary!.max).toBe(111);
    // avg, zones and TRIMP still come from the smoothed series, as before
    const old = heartRate(ts, hr, n, ride('2026.11-2'), {}, new Uint8Array(n)).summary!;
    expect({ ...now.summary!, max: 0 }).toEqual({ ...old, max: 0 });
  });

  it('spikes and implausible jumps still do not set the max', () => {
    const n = 120;
    const ts = Float64Array.from({ length: n }, (_, i) => i * 1000);
    const bpm = Array.from({ length: n }, (_, i) => 100 + (i % 3)); // 100–102, 1 Hz
    bpm[20] = 255; // saturated (the column cannot hold 300: the importer leaves > 255 null)
    bpm[40] = 200; // doubled
    bpm[60] = 231; // out of range
    bpm[80] = 130; // +28 bpm in 1 s: faster than 20 bpm/s + 5
    bpm[100] = 0; // no reading
    const flags = new Uint8Array(n);
    const r = heartRate(ts, Uint8Array.from(bpm), n, ride(), {}, flags);
    expect(r.summary!.max).toBe(102);
    expect(r.artefacts).toBe(4);
    for (const i of [20, 40, 60, 80]) expect(flags[i]! & FLAG_HR_ARTEFACT).toBe(FLAG_HR_ARTEFACT);
    expect(Number.isNaN(r.clean[100]!)).toBe(true);
  });

  it('a spike in the first reading no longer stands (2026.11-3: the first reference is a median)', () => {
    // bench/synth cycling seed 29200 with 5 % artefacts: 0, then a doubled 228, then the true 114s
    const bpm = [0, 228, 114, 114, 114, 114, 114, 115, 116, 116, 117, 118, 119, 121, 122];
    const { ts, hr, n } = series(
      bpm.map((_, i) => i),
      bpm,
    );
    const flags = new Uint8Array(n);
    const now = heartRate(ts, hr, n, ride(), {}, flags);
    expect(now.summary!.max).toBe(122);
    expect(now.artefacts).toBe(1);
    expect(flags[1]! & FLAG_HR_ARTEFACT).toBe(FLAG_HR_ARTEFACT);
    // 2026.11-2 trusted the first value: 228 stood and the next five true values were rejected
    const old = heartRate(ts, hr, n, ride('2026.11-2'), {}, new Uint8Array(n));
    expect(old.summary!.max).toBe(228);
    expect(old.artefacts).toBe(5);
  });

  it('the median seed keeps a real rise at the start', () => {
    // warming up: +4 bpm a second from the first reading on
    const bpm = Array.from({ length: 30 }, (_, i) => 90 + 4 * i);
    const { ts, hr, n } = series(
      bpm.map((_, i) => i),
      bpm,
    );
    const r = heartRate(ts, hr, n, ride(), {}, new Uint8Array(n));
    expect(r.artefacts).toBe(0);
    expect(r.summary!.max).toBe(90 + 4 * 29);
  });
});
