// Deterministic synthetic workouts with known ground truth, for stage accuracy tests, micro-benchmarks and
// the load generator. See README.md in this folder for the model and its conventions.
import type { Sample } from '../../schemas/types.js';
import { resolveOptions, type SynthOptions } from './options.js';
import { type GpsJump, type HrArtefact, observe } from './sensors.js';
import type { Stop } from './stops.js';
import { buildTrack } from './track.js';

export { EARTH_RADIUS_M, haversineM } from './geo.js';
export type { SynthOptions, SynthSport } from './options.js';
export { sampleAt } from './sample-at.js';
export type { GpsJump, HrArtefact, HrArtefactKind } from './sensors.js';
export type { Stop } from './stops.js';

export interface SynthTruth {
  /** true path length: haversine over truePositions, R = 6_371_008.8 m */
  distanceM: number;
  /** seconds with true speed > 0: elapsedS minus the stop durations */
  movingTimeS: number;
  /** = durationS = last ts - first ts (the session has durationS + 1 samples) */
  elapsedS: number;
  /** sum of positive deltas of the noise-free altitude at the samples */
  elevationGainM: number;
  elevationLossM: number;
  maxAltM: number;
  minAltM: number;
  /** of the true (smooth, unrounded) heart-rate signal over all samples */
  avgHr: number;
  maxHr: number;
  /** interleaved lat,lon of the noise-free track, one pair per sample */
  truePositions: Float64Array;

  // Beyond the brief: per-sample truth and the injected defects, for stage-level assertions.
  /** true cumulative distance at each sample (cumDistanceM[n-1] === distanceM) */
  cumDistanceM: Float64Array;
  /** noise-free altitude at each sample */
  trueAlt: Float64Array;
  /** true heart rate at each sample */
  trueHr: Float64Array;
  /** true speed over [i, i + 1), length durationS; exactly 0 inside stops and > 0 elsewhere */
  segmentSpeed: Float64Array;
  stops: readonly Stop[];
  /** GPS jumps injected into lat/lon */
  jumps: readonly GpsJump[];
  /** HR samples replaced by an artefact */
  hrArtefacts: readonly HrArtefact[];
  /** Sample.dist = cumDistanceM * (1 + distBias); 0 for sports whose samples carry dist: null */
  distBias: number;
}

export interface SynthSession {
  samples: Sample[];
  truth: SynthTruth;
}

/**
 * Generates one session: durationS + 1 samples at 1 Hz (seq 0..durationS, ts = startTs + 1000 * seq) and
 * its ground truth. Pure and deterministic in its options; ~3 ms for a 4 h session.
 */
export function generateSession(opts: SynthOptions): SynthSession {
  const o = resolveOptions(opts);
  const track = buildTrack(o);
  const { samples, jumps, hrArtefacts, distBias } = observe(track, o);
  const { n } = track;

  const truePositions = new Float64Array(2 * n);
  let gain = 0;
  let loss = 0;
  let maxAlt = track.alt[0]!;
  let minAlt = maxAlt;
  let hrSum = 0;
  let maxHr = 0;
  for (let i = 0; i < n; i++) {
    truePositions[2 * i] = track.lat[i]!;
    truePositions[2 * i + 1] = track.lon[i]!;
    const a = track.alt[i]!;
    if (i > 0) {
      const d = a - track.alt[i - 1]!;
      if (d > 0) gain += d;
      else loss -= d;
    }
    if (a > maxAlt) maxAlt = a;
    if (a < minAlt) minAlt = a;
    const h = track.hr[i]!;
    hrSum += h;
    if (h > maxHr) maxHr = h;
  }
  let stopped = 0;
  for (const s of track.stops) stopped += s.durationS;

  return {
    samples,
    truth: {
      distanceM: track.cumDist[n - 1]!,
      movingTimeS: o.durationS - stopped,
      elapsedS: o.durationS,
      elevationGainM: gain,
      elevationLossM: loss,
      maxAltM: maxAlt,
      minAltM: minAlt,
      avgHr: hrSum / n,
      maxHr,
      truePositions,
      cumDistanceM: track.cumDist,
      trueAlt: track.alt,
      trueHr: track.hr,
      segmentSpeed: track.segmentSpeed,
      stops: track.stops,
      jumps,
      hrArtefacts,
      distBias,
    },
  };
}
