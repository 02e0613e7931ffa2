// The noise-free ground truth of a session: path, speed, altitude and the athlete's true heart rate,
// cadence and power, one value per 1 Hz sample. sensors.ts turns this into what a device would report.
import { clamp } from './clamp.js';
import { EARTH_RADIUS_M, haversineM, wrapLon } from './geo.js';
import type { ResolvedOptions } from './options.js';
import { STREAM, streamRng } from './rng.js';
import { BIKE, CYCLING_POWER_W, PROFILES, toblerRatio } from './sports.js';
import { planStops, type Stop } from './stops.js';
import { buildTerrain } from './terrain.js';

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

export interface Track {
  /** samples: durationS + 1 (sample i at t = i s; the session spans durationS seconds) */
  n: number;
  lat: Float64Array;
  lon: Float64Array;
  alt: Float64Array;
  /** haversine distance from sample 0 to sample i along the true positions */
  cumDist: Float64Array;
  /** true speed over the interval [i, i + 1); length n - 1 */
  segmentSpeed: Float64Array;
  /** true heart rate at sample i (smooth, not rounded) */
  hr: Float64Array;
  /** true cadence at sample i (rpm or spm, see PROFILES); NaN when the sport has none */
  cadence: Float64Array;
  /** true power at sample i, W; NaN for sports other than cycling */
  power: Float64Array;
  stops: Stop[];
}

/** Speed at which a rider sustains wheel power `p` on `grade` (positive root of k v^3 + c v - p = 0). */
export function cyclingSpeed(powerW: number, grade: number): number {
  const c = BIKE.massKg * BIKE.g * (BIKE.crr + grade);
  const p = c / BIKE.aeroK;
  const q = -(powerW * BIKE.drivetrain) / BIKE.aeroK;
  const disc = (q * q) / 4 + (p * p * p) / 27;
  if (disc >= 0) {
    const r = Math.sqrt(disc);
    return Math.cbrt(-q / 2 + r) + Math.cbrt(-q / 2 - r);
  }
  // Steep descent: three real roots, take the largest.
  const m = 2 * Math.sqrt(-p / 3);
  return m * Math.cos(Math.acos(((3 * q) / (2 * p)) * Math.sqrt(-3 / p)) / 3);
}

/** Power the rider must put into the cranks to hold speed v (accelerating by a) on grade; >= 0. */
export function cyclingPower(v: number, grade: number, a: number): number {
  const wheel = BIKE.aeroK * v * v * v + BIKE.massKg * (BIKE.g * (BIKE.crr + grade) + a) * v;
  return Math.max(0, wheel / BIKE.drivetrain);
}

/** First-order Gauss-Markov step: keeps the stationary sigma whatever the step length. */
function gaussMarkov(x: number, rho: number, sigma: number, gaussian: number): number {
  return rho * x + Math.sqrt(1 - rho * rho) * sigma * gaussian;
}

export function buildTrack(o: ResolvedOptions): Track {
  const p = PROFILES[o.sport];
  const n = o.durationS + 1;
  const terrain = buildTerrain(o.seed, o.sport);
  const stops = planStops(o.seed, o.durationS, o.stops);
  const route = streamRng(o.seed, STREAM.route);
  const pace = streamRng(o.seed, STREAM.pace);
  const body = streamRng(o.seed, STREAM.physiology);

  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  const alt = new Float64Array(n);
  const cumDist = new Float64Array(n);
  const segmentSpeed = new Float64Array(n - 1);
  const hr = new Float64Array(n);
  const cadence = new Float64Array(n).fill(Number.NaN);
  const power = new Float64Array(n).fill(Number.NaN);

  // Session-level draws.
  const v0 = pace.uniform(p.baseSpeed[0], p.baseSpeed[1]);
  const power0 = pace.uniform(CYCLING_POWER_W[0], CYCLING_POWER_W[1]);
  const intervals = o.sport === 'running' && pace.next() < 0.5;
  const workS = pace.int(60, 240);
  const restS = pace.int(60, 120);
  const workFactor = pace.uniform(1.18, 1.3);
  const restFactor = pace.uniform(0.8, 0.9);
  const hrNominal = body.uniform(p.hrNominal[0], p.hrNominal[1]);
  const hrStopped = body.uniform(p.hrStopped[0], p.hrStopped[1]);
  const hrCeiling = body.uniform(178, 192);
  const driftPerS = body.uniform(2, 6) / 3600; // cardiac drift, bpm per second
  const paceRho = Math.exp(-1 / p.paceTauS);
  const cadenceRho = Math.exp(-1 / 30);
  let heading = route.uniform(0, 2 * Math.PI);
  let curvature = 0;
  let paceX = 0;
  let cadenceX = 0;

  let latR = o.start.lat * RAD;
  let lonD = o.start.lon;
  let s = 0; // distance along the path, m: drives the terrain
  let vPrev = 0;
  let hrNow = hrStopped + 10;
  let stopIdx = 0;

  for (let i = 0; i < n; i++) {
    lat[i] = latR * DEG;
    lon[i] = lonD;
    alt[i] = terrain.altAt(s);
    hr[i] = hrNow;
    if (i > 0) cumDist[i] = cumDist[i - 1]! + haversineM(lat[i - 1]!, lon[i - 1]!, lat[i]!, lon[i]!);
    const last = i === n - 1;

    // True speed over [i, i + 1): 0 inside a stop, else the sport's pace model, ramped around stops.
    while (stopIdx < stops.length && i >= stops[stopIdx]!.start + stops[stopIdx]!.durationS) stopIdx++;
    const stop = stops[stopIdx];
    const stopped = stop !== undefined && i >= stop.start;
    const grade = clamp(terrain.gradeAt(s), -0.45, 0.45);
    paceX = gaussMarkov(paceX, paceRho, p.paceSigma, pace.gaussian());
    cadenceX = gaussMarkov(cadenceX, cadenceRho, 1, body.gaussian());
    let v = 0;
    let effort = 0;
    if (!stopped) {
      let target: number;
      if (o.sport === 'cycling') {
        // Riders push a little harder uphill; the power model makes climbs slower all the same.
        const pTarget = power0 * Math.exp(paceX) * (1 + clamp(2 * grade, 0, 0.3));
        target = cyclingSpeed(pTarget, grade);
      } else if (o.sport === 'running') {
        let f = 1;
        if (intervals && i > 600 && i < n - 600)
          f = (i - 600) % (workS + restS) < workS ? workFactor : restFactor;
        target = v0 * f * Math.exp(paceX) * Math.exp(-3 * grade);
      } else {
        target = v0 * Math.exp(paceX) * toblerRatio(grade);
      }
      target = clamp(target, p.speedClamp[0], p.speedClamp[1]);
      v = Math.min(target, vPrev + p.accel);
      if (stop !== undefined) v = Math.min(v, p.decel * (stop.start - i));
      v = Math.max(v, 0.2); // moving means moving: never a zero-speed second outside a stop
      if (o.sport === 'cycling') {
        const w = cyclingPower(v, grade, v - vPrev);
        power[i] = w;
        effort = w / power0;
        cadence[i] =
          w > 15 ? clamp(88 + 3 * cadenceX - 60 * Math.max(grade, 0) + 8 * (effort - 1), 55, 115) : 0;
      } else {
        const climbCost = grade > 0 ? 1 + (o.sport === 'running' ? 4 : 8) * grade : 1 + 2 * grade;
        effort = (v / v0) * climbCost;
        if (o.sport === 'running') cadence[i] = clamp(142 + 9 * v + 2 * cadenceX, 150, 195);
      }
    } else {
      if (o.sport === 'cycling') {
        power[i] = 0;
        cadence[i] = 0;
      } else if (o.sport === 'running') cadence[i] = 0;
    }
    const hrTarget = stopped
      ? hrStopped
      : clamp(hrNominal + p.hrGain * (effort - 1) + driftPerS * i, hrStopped, hrCeiling);
    hrNow += (hrTarget - hrNow) * (hrTarget > hrNow ? 1 - Math.exp(-1 / 30) : 1 - Math.exp(-1 / 60));
    if (last) break;

    segmentSpeed[i] = v;
    vPrev = v;
    if (v > 0) {
      // Bends: curvature is a Gauss-Markov process in distance; corners are rare sharp heading changes.
      curvature = gaussMarkov(curvature, Math.exp(-v / p.curvatureCorrM), p.curvatureSigma, route.gaussian());
      heading += curvature * v;
      if (route.next() < 1 - Math.exp(-v / p.cornerSpacingM)) {
        heading += (route.next() < 0.5 ? -1 : 1) * route.uniform(60, 110) * RAD;
      }
      // Local step on the sphere: the haversine of this step equals v to ~(v/R)^2 relative.
      const dLat = (v * Math.cos(heading)) / EARTH_RADIUS_M;
      const dLon = (v * Math.sin(heading)) / (EARTH_RADIUS_M * Math.cos(latR + dLat / 2));
      latR += dLat;
      lonD = wrapLon(lonD + dLon * DEG);
      s += v;
    }
  }
  return { n, lat, lon, alt, cumDist, segmentSpeed, hr, cadence, power, stops };
}
