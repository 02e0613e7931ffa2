// sampleAt: sample i of a session in O(stops) time and O(1) memory, for load generation that streams
// thousands of concurrent sessions. It cannot replay the recursive processes of generateSession (random-walk
// heading, Gauss-Markov noise, lagged HR), so it uses closed-form look-alikes with the same statistics:
//  - shared exactly with generateSession: option handling, the stop schedule and the terrain profile;
//  - pace: three seeded sinusoids around the sport's base speed, integrated in closed form;
//  - path: a seeded loop (circle of 0.6-2.5 km radius plus two wiggles) around the start, traversed at the
//    pace above; its arc length differs from the paced distance by up to ~20 %, and grade effects change
//    the reported speed but not the position;
//  - GPS / altitude noise: correlated part as a sum of sinusoids whose frequencies are drawn from the
//    Gauss-Markov (Lorentzian) spectrum, white part and jumps from per-index hashes;
//  - HR: lagged response to pace, exponential drop during a stop and recovery after it.
// So sampleAt(o, i) is NOT generateSession(o).samples[i]; use generateSession whenever truth matters.

import type { Sample } from '../../schemas/types.js';
import { clamp } from './clamp.js';
import { metresToDegLat, metresToDegLon, wrapLon } from './geo.js';
import { resolveOptions, type SynthOptions } from './options.js';
import { deriveSeed, gaussianAt, STREAM, uniformAt } from './rng.js';
import { CYCLING_POWER_W, PROFILES, toblerRatio } from './sports.js';
import { planStops, type Stop } from './stops.js';
import { buildTerrain } from './terrain.js';
import { cyclingPower, cyclingSpeed } from './track.js';

const PACE_TERMS = 3;
const NOISE_TERMS = 6;
const HR_UP_TAU_S = 30;
const HR_DOWN_TAU_S = 60;

function lerp(u: number, lo: number, hi: number): number {
  return lo + (hi - lo) * u;
}

/** Seconds of moving time before sample i (intervals [0, i) outside stops). */
function movingTimeAt(stops: readonly Stop[], i: number): number {
  let m = i;
  for (const s of stops) {
    if (i <= s.start) break;
    m -= Math.min(i - s.start, s.durationS);
  }
  return m;
}

/** Zero-mean, unit-variance, exponentially correlated (time constant tauS) process at time t, closed form. */
function spectralNoise(base: number, salt: number, tauS: number, t: number): number {
  let x = 0;
  for (let k = 0; k < NOISE_TERMS; k++) {
    // Half-Cauchy frequencies with scale 1/tau give the autocorrelation exp(-|lag|/tau) in expectation.
    const omega = Math.tan((Math.PI / 2) * Math.min(uniformAt(base, k, salt), 0.97)) / tauS;
    x += Math.cos(omega * t + 2 * Math.PI * uniformAt(base, k, salt + 1));
  }
  return x * Math.sqrt(2 / NOISE_TERMS);
}

/**
 * Sample i (0 <= i <= durationS) of the session described by opts, approximately like generateSession
 * but without materialising anything. Deterministic. Cost: O(opts.stops) plus ~40 hashes and ~40 trig
 * calls, a few microseconds per call; nothing is cached, so opts may be a fresh object every call.
 */
export function sampleAt(opts: SynthOptions, i: number): Sample {
  const o = resolveOptions(opts);
  if (!Number.isInteger(i) || i < 0 || i > o.durationS) {
    throw new RangeError(`sampleAt: i must be an integer in [0, ${o.durationS}], got ${i}`);
  }
  const p = PROFILES[o.sport];
  const par = deriveSeed(o.seed, STREAM.params);
  const stops = planStops(o.seed, o.durationS, o.stops);
  const terrain = buildTerrain(o.seed, o.sport);

  // Where we are in the stop schedule.
  let current: Stop | undefined;
  let lastEnded: Stop | undefined;
  let next: Stop | undefined;
  for (const s of stops) {
    if (i >= s.start + s.durationS) lastEnded = s;
    else if (i >= s.start) current = s;
    else {
      next = s;
      break;
    }
  }
  const m = movingTimeAt(stops, i);

  // Pace: v = v0 (1 + sum a sin(w m + phi)), integrated in closed form over moving time.
  const power0 = lerp(uniformAt(par, 1), CYCLING_POWER_W[0], CYCLING_POWER_W[1]);
  const v0 =
    o.sport === 'cycling' ? cyclingSpeed(power0, 0) : lerp(uniformAt(par, 0), p.baseSpeed[0], p.baseSpeed[1]);
  const mPrev = i > 0 ? movingTimeAt(stops, i - 1) : 0;
  const amp = p.paceSigma * Math.SQRT2; // each term has variance amp^2 / 2: the three sum to ~paceSigma^2
  let s = m;
  let sPrev = mPrev;
  let paceRel = 0;
  let paceRelLagged = 0; // pace seen through the HR's first-order lag
  for (let j = 0; j < PACE_TERMS; j++) {
    const w = (2 * Math.PI) / (60 * 15 ** uniformAt(par, 10 + j)); // periods 1-15 min
    const phi = 2 * Math.PI * uniformAt(par, 20 + j);
    s += (amp / w) * (Math.cos(phi) - Math.cos(w * m + phi));
    sPrev += (amp / w) * (Math.cos(phi) - Math.cos(w * mPrev + phi));
    paceRel += amp * Math.sin(w * m + phi);
    const wt = w * HR_UP_TAU_S;
    paceRelLagged += (amp / Math.sqrt(1 + wt * wt)) * Math.sin(w * m + phi - Math.atan(wt));
  }
  s *= v0;
  sPrev *= v0;
  const grade = clamp(terrain.gradeAt(s), -0.45, 0.45);

  // True speed now, ramped around stops like generateSession.
  let v = 0;
  let powerW = 0;
  if (current === undefined) {
    if (o.sport === 'cycling') {
      v = cyclingSpeed(power0 * (1 + 3 * paceRel) * (1 + clamp(2 * grade, 0, 0.3)), grade);
    } else {
      v = v0 * (1 + paceRel) * (o.sport === 'running' ? Math.exp(-3 * grade) : toblerRatio(grade));
    }
    v = clamp(v, p.speedClamp[0], p.speedClamp[1]);
    const sinceStart = lastEnded === undefined ? i : i - lastEnded.start - lastEnded.durationS;
    v = Math.min(v, p.accel * (sinceStart + 1));
    if (next !== undefined) v = Math.min(v, p.decel * (next.start - i));
    v = Math.max(v, 0.2);
    if (o.sport === 'cycling') powerW = cyclingPower(v, grade, 0);
  }

  // Heart rate: lagged pace response while moving; exponential drop in a stop; recovery after it.
  const body = deriveSeed(o.seed, STREAM.physiology);
  const hrNominal = lerp(uniformAt(body, 0), p.hrNominal[0], p.hrNominal[1]);
  const hrStopped = lerp(uniformAt(body, 1), p.hrStopped[0], p.hrStopped[1]);
  const hrCeiling = lerp(uniformAt(body, 2), 178, 192);
  const driftPerS = lerp(uniformAt(body, 3), 2, 6) / 3600;
  const effortRel = (o.sport === 'cycling' ? 3 : 1) * paceRelLagged + grade;
  const hrMoving = (at: number): number =>
    clamp(hrNominal + p.hrGain * effortRel + driftPerS * at, hrStopped, hrCeiling);
  const dropped = (from: number, forS: number): number =>
    hrStopped + (from - hrStopped) * Math.exp(-forS / HR_DOWN_TAU_S);
  let hrTrue: number;
  if (current !== undefined) {
    hrTrue = dropped(hrMoving(current.start), i - current.start);
  } else {
    const resumedAt = lastEnded === undefined ? 0 : lastEnded.start + lastEnded.durationS;
    const hrResume =
      lastEnded === undefined ? hrStopped + 10 : dropped(hrMoving(lastEnded.start), lastEnded.durationS);
    const target = hrMoving(i);
    hrTrue = target - (target - hrResume) * Math.exp(-(i - resumedAt) / HR_UP_TAU_S);
  }
  let hr = Math.round(hrTrue);
  const hrArt = deriveSeed(o.seed, STREAM.hrArtefacts);
  if (uniformAt(hrArt, i) < o.hrSpikeProbability) {
    const r = uniformAt(hrArt, i, 1);
    hr = r < 1 / 3 ? 0 : r < 2 / 3 ? 255 : Math.min(255, 2 * hr);
  }

  // Path: a loop around the start plus two wiggles, as a function of paced distance.
  const route = deriveSeed(o.seed, STREAM.route);
  let east = 0;
  let north = 0;
  const loopR = lerp(uniformAt(route, 0), 600, 2500) * (o.sport === 'cycling' ? 4 : 1);
  const dir = uniformAt(route, 1) < 0.5 ? -1 : 1;
  for (let j = 0; j < 3; j++) {
    const omega =
      j === 0 ? dir / loopR : 1 / lerp(uniformAt(route, 10 + j), j === 1 ? 300 : 40, j === 1 ? 800 : 200);
    const r = j === 0 ? loopR : (j === 1 ? 0.12 : 0.06) / omega;
    const psi = 2 * Math.PI * uniformAt(route, 20 + j);
    east += r * (Math.cos(omega * s + psi) - Math.cos(psi));
    north += r * (Math.sin(omega * s + psi) - Math.sin(psi));
  }

  // GPS error: correlated + white + jumps.
  const gps = deriveSeed(o.seed, STREAM.gps);
  const tau = lerp(uniformAt(gps, 0), 10, 30);
  const sigmaC = o.gpsNoiseM * Math.sqrt(0.8);
  const sigmaW = o.gpsNoiseM * Math.sqrt(0.2);
  const white = deriveSeed(o.seed, STREAM.whiteNoise);
  north += sigmaC * spectralNoise(gps, 100, tau, i) + sigmaW * gaussianAt(white, i, 0);
  east += sigmaC * spectralNoise(gps, 200, tau, i) + sigmaW * gaussianAt(white, i, 1);
  const jumps = deriveSeed(o.seed, STREAM.jumps);
  for (let j = i; j > i - 3 && j >= 0; j--) {
    if (uniformAt(jumps, j) < o.jumpProbability) {
      if (i - j < 1 + Math.floor(3 * uniformAt(jumps, j, 1))) {
        const offset = lerp(uniformAt(jumps, j, 2), 50, 300);
        const bearing = 2 * Math.PI * uniformAt(jumps, j, 3);
        north += offset * Math.cos(bearing);
        east += offset * Math.sin(bearing);
      }
      break;
    }
  }
  const lat = o.start.lat + metresToDegLat(north);

  const alt = deriveSeed(o.seed, STREAM.altNoise);
  const altNoise =
    o.altNoiseM *
    (Math.sqrt(0.7) * spectralNoise(alt, 100, lerp(uniformAt(alt, 0), 15, 40), i) +
      Math.sqrt(0.3) * gaussianAt(white, i, 2));
  const sensors = deriveSeed(o.seed, STREAM.sensors);
  const speedSigma = 0.05 + 0.02 * o.gpsNoiseM;
  const distBias = p.reportsDist ? lerp(uniformAt(sensors, 0), 0.003, 0.007) : 0;
  const lap = o.lapEveryM;
  const moving = current === undefined;

  let cadence: number | null = null;
  if (p.cadence === 'spm') cadence = moving ? Math.round(clamp(142 + 9 * v, 150, 195)) : 0;
  else if (p.cadence === 'rpm') {
    cadence =
      moving && powerW > 15 ? Math.round(clamp(88 - 60 * Math.max(grade, 0) + 8 * paceRel, 55, 115)) : 0;
  }
  return {
    ts: o.startTs + i * 1000,
    seq: i,
    lat,
    lon: wrapLon(o.start.lon + metresToDegLon(east, o.start.lat)),
    alt: terrain.altAt(s) + altNoise,
    acc: o.accuracyReported ? Math.round(10 * Math.max(1, o.gpsNoiseM)) / 10 : null,
    speed: Math.abs(v + speedSigma * gaussianAt(white, i, 3)),
    dist: p.reportsDist ? s * (1 + distBias) : null,
    hr,
    cadence,
    power: o.sport === 'cycling' ? Math.round(powerW * (1 + 0.02 * gaussianAt(white, i, 4))) : null,
    lap: lap !== null && i > 0 && Math.floor(s / lap) > Math.floor(sPrev / lap),
  };
}
