import { type Track, U16_NONE } from '../../pipelines/types.js';
import { emptySample } from '../../schemas/sample.js';
import type { Sample } from '../../schemas/types.js';

/**
 * Builders for unit and integration tests: samples, and hand-made tracks with known answers. `sample()` is
 * the one builder of a test Sample (on schemas' `emptySample`), instead of the literal retyped per file.
 */
export const T0 = 1_760_000_000_000;

/** metres of latitude per degree on the IUGG mean sphere (R·π/180) */
export const M_PER_DEG = (6_371_008.8 * Math.PI) / 180;

/**
 * A Track sampled every second whose interval k-1→k is covered at `speeds[k-1]` m/s: n =
 * speeds.length + 1 rows, cumulative distance and moving time exact, smoothed speed per row = the
 * speed of the interval ending at it (row 0: the first interval's). HR, altitude and power are
 * missing unless given.
 */
export function trackFromSpeeds(
  speeds: readonly number[],
  extra: { hr?: readonly number[]; alt?: readonly number[]; power?: readonly number[] } = {},
): Track {
  const n = speeds.length + 1;
  const ts = new Float64Array(n);
  const dist = new Float64Array(n);
  const moving = new Float64Array(n);
  const speed = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = T0 + i * 1000;
    if (i > 0) {
      dist[i] = dist[i - 1]! + speeds[i - 1]!;
      moving[i] = moving[i - 1]! + 1;
    }
    speed[i] = speeds[Math.max(0, i - 1)]!;
  }
  const series = (v: readonly number[] | undefined) =>
    v ? Float32Array.from(v) : new Float32Array(n).fill(Number.NaN);
  return {
    n,
    ts,
    dist,
    moving,
    speed,
    hr: series(extra.hr),
    alt: series(extra.alt),
    power: extra.power ? Uint16Array.from(extra.power) : new Uint16Array(n).fill(U16_NONE),
    flags: new Uint8Array(n),
    elevHysteresisM: 3,
  };
}

/** `count` copies of `v` */
export const repeat = (v: number, count: number): number[] => new Array<number>(count).fill(v);

/** A sample at second `i` after `t0` (seq `i`) with every field missing unless given. */
export function sample(i: number, fields: Partial<Sample> = {}, t0 = T0): Sample {
  return { ...emptySample(t0 + i * 1000, i), ...fields };
}

/**
 * A straight line due north from (lat0, lon0) at constant `speedMps` for `seconds` s, one exact fix
 * per second (accuracy 3 m) with the Doppler speed and `fields` on every sample.
 */
export function northLine(
  seconds: number,
  speedMps: number,
  fields: Partial<Sample> = {},
  lat0 = 46.5,
  lon0 = 6.6,
): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i <= seconds; i++) {
    out.push(
      sample(i, { lat: lat0 + (i * speedMps) / M_PER_DEG, lon: lon0, acc: 3, speed: speedMps, ...fields }),
    );
  }
  return out;
}
