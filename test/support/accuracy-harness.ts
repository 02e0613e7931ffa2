import { generateSession, type SynthSport } from '../../bench/synth/index.js';
import { computeActivity } from '../../pipelines/index.js';
import { gpxpyGain, plainGain } from './real-recordings.js';

/**
 * Accuracy of the cleaned numbers (and of raw haversine, for comparison) against synthetic tracks
 * with known ground truth. Shared by pipelines/accuracy.test.ts, bench/pipeline-elevation.ts and docs figures.
 */
export interface AccuracyCase {
  sport: SynthSport;
  seed: number;
  durationS: number;
  gpsNoiseM: number;
}

export interface AccuracyRow extends AccuracyCase {
  truthDistanceM: number;
  distErrPct: number;
  rawDistErrPct: number;
  /** cleaned distance of the same session with jumps removed at the source (other noise identical) */
  jumpEffectPct: number;
  movingErrPct: number;
  truthGainM: number;
  gainErrPct: number;
  /** gain from the raw altitude (sum of positive deltas), for comparison */
  rawGainErrPct: number;
  /** peer methods on the same raw altitude: a plain 3 m hysteresis, and gpxpy's uphill (a 3-point
   * weighted mean, then every rise summed) */
  plainGainErrPct: number;
  gpxpyGainErrPct: number;
  jumps: number;
}

export function accuracyCases(): AccuracyCase[] {
  const out: AccuracyCase[] = [];
  const noise = [3, 4, 5, 6, 7, 8, 3.5, 5.5, 6.5, 7.5];
  for (let k = 0; k < 10; k++)
    out.push({ sport: 'running', seed: 100 + k, durationS: 3600, gpsNoiseM: noise[k]! });
  for (let k = 0; k < 10; k++)
    out.push({ sport: 'cycling', seed: 200 + k, durationS: 7200, gpsNoiseM: noise[k]! });
  for (let k = 0; k < 5; k++)
    out.push({ sport: 'walking', seed: 300 + k, durationS: 3600, gpsNoiseM: noise[k * 2]! });
  for (let k = 0; k < 5; k++)
    out.push({ sport: 'hiking', seed: 400 + k, durationS: 3600 * 2, gpsNoiseM: noise[k * 2 + 1]! });
  return out;
}

function run(sport: SynthSport, seed: number, samples: Parameters<typeof computeActivity>[0]['samples']) {
  return computeActivity({
    userId: 'u',
    deviceId: 'd',
    sessionId: `s${seed}`,
    sport,
    samples,
    controls: [],
    sets: [],
    athlete: {},
  }).summary;
}

export function measure(c: AccuracyCase): AccuracyRow {
  const { samples, truth } = generateSession({ ...c, altNoiseM: 3 });
  const clean = generateSession({ ...c, altNoiseM: 3, jumpProbability: 0 });
  const s = run(c.sport, c.seed, samples);
  const s0 = run(c.sport, c.seed, clean.samples);
  let rawGain = 0;
  for (let i = 1; i < samples.length; i++) {
    const d = samples[i]!.alt! - samples[i - 1]!.alt!;
    if (d > 0) rawGain += d;
  }
  const pct = (a: number, b: number) => (a / b - 1) * 100;
  return {
    ...c,
    truthDistanceM: truth.distanceM,
    distErrPct: pct(s.distanceM, truth.distanceM),
    rawDistErrPct: pct(s.rawDistanceM, truth.distanceM),
    jumpEffectPct: pct(s.distanceM, s0.distanceM),
    movingErrPct: pct(s.movingS, truth.movingTimeS),
    truthGainM: truth.elevationGainM,
    gainErrPct: pct(s.elevGainM, truth.elevationGainM),
    rawGainErrPct: pct(rawGain, truth.elevationGainM),
    plainGainErrPct: pct(plainGain(samples, 3)!, truth.elevationGainM),
    gpxpyGainErrPct: pct(gpxpyGain(samples), truth.elevationGainM),
    jumps: truth.jumps.length,
  };
}

export function markdownTable(rows: readonly AccuracyRow[]): string {
  const f = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(2);
  const lines = [
    '| sport | seed | σ m | truth km | dist err % | raw dist err % | jump effect % | moving err % | truth gain m | gain err % | raw gain err % | plain 3 m gain err % | gpxpy gain err % |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.sport} | ${r.seed} | ${r.gpsNoiseM} | ${(r.truthDistanceM / 1000).toFixed(2)} | ${f(r.distErrPct)} | ${f(r.rawDistErrPct)} | ${f(r.jumpEffectPct)} | ${f(r.movingErrPct)} | ${r.truthGainM.toFixed(0)} | ${f(r.gainErrPct)} | ${f(r.rawGainErrPct)} | ${f(r.plainGainErrPct)} | ${f(r.gpxpyGainErrPct)} |`,
    );
  }
  return lines.join('\n');
}
