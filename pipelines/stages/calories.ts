import type { Sport } from '../../schemas/types.js';
import type { SportConfig } from '../config.js';
import { type AthleteProfile, FLAG_PAUSED } from '../types.js';

/**
 * Calories (kcal), and which method produced them.
 * - 'hr' when heart rate covers at least half of the moving time: Keytel et al. 2005 (J Sports Sci
 *   23:289) energy expenditure per minute from HR, weight (kg) and age (y):
 *     men:   (−55.0969 + 0.6309·HR + 0.1988·W + 0.2017·A) / 4.184
 *     women: (−20.4022 + 0.4472·HR − 0.1263·W + 0.0740·A) / 4.184
 *   integrated over unpaused intervals with HR (negative rates count 0); unpaused time without
 *   HR is filled in at the MET rate below.
 * - 'met' otherwise: kcal = MET × weight × hours of moving time, where MET is
 *     running:  ACSM, VO2 = 0.2·v + 0.9·v·grade + 3.5 ml/kg/min (v in m/min), integrated:
 *               0.2·distance + 0.9·elevation gain + 3.5·minutes, at 5 kcal per litre O2
 *     walking/hiking: ACSM walking, 0.1·v + 1.8·v·grade + 3.5, integrated the same way
 *     cycling: Compendium of Physical Activities bands by average speed (4.0 … 15.8 MET)
 *     strength (and anything without distance): the sport's MET from config over elapsed time.
 * Defaults when the profile is incomplete: 70 kg, 35 years, male formula.
 */
export interface CaloriesResult {
  kcal: number;
  method: 'hr' | 'met';
}

const DEFAULT_WEIGHT = 70;
const DEFAULT_AGE = 35;

export function metCalories(
  sport: Sport,
  cfg: SportConfig,
  weightKg: number,
  distanceM: number,
  gainM: number,
  movingS: number,
): number {
  const minutes = movingS / 60;
  if (minutes <= 0) return 0;
  if (distanceM > 0 && (sport === 'running' || sport === 'walking' || sport === 'hiking')) {
    const horiz = sport === 'running' ? 0.2 : 0.1;
    const vert = sport === 'running' ? 0.9 : 1.8;
    const vo2 = horiz * distanceM + vert * gainM + 3.5 * minutes; // ml/kg
    return (vo2 * weightKg * 5) / 1000;
  }
  if (sport === 'cycling' && distanceM > 0) {
    const kmh = (distanceM / movingS) * 3.6;
    const met = kmh < 16 ? 4 : kmh < 19.3 ? 6.8 : kmh < 22.5 ? 8 : kmh < 25.7 ? 10 : kmh < 30.6 ? 12 : 15.8;
    return (met * weightKg * minutes) / 60;
  }
  return (cfg.met * weightKg * minutes) / 60;
}

export function calories(args: {
  sport: Sport;
  cfg: SportConfig;
  athlete: AthleteProfile;
  startTs: number;
  ts: Float64Array;
  hr: Float32Array;
  flags: Uint8Array;
  n: number;
  distanceM: number;
  gainM: number;
  movingS: number;
  /** time the MET fallback applies to (moving time; elapsed for strength) */
  metTimeS: number;
}): CaloriesResult {
  const { athlete, ts, hr, flags, n } = args;
  const weight =
    athlete.weightKg !== undefined && athlete.weightKg > 20 && athlete.weightKg < 400
      ? athlete.weightKg
      : DEFAULT_WEIGHT;
  const metKcal = metCalories(args.sport, args.cfg, weight, args.distanceM, args.gainM, args.metTimeS);
  let hrS = 0;
  let unpausedS = 0;
  let kcal = 0;
  const age =
    athlete.birthYear !== undefined
      ? new Date(args.startTs).getUTCFullYear() - athlete.birthYear
      : DEFAULT_AGE;
  const female = athlete.sex === 'f';
  const c0 = female ? -20.4022 - 0.1263 * weight + 0.074 * age : -55.0969 + 0.1988 * weight + 0.2017 * age;
  const c1 = female ? 0.4472 : 0.6309;
  const gapMs = args.cfg.maxGapS * 1000;
  for (let i = 1; i < n; i++) {
    if (flags[i]! & FLAG_PAUSED) continue;
    let dt = ts[i]! - ts[i - 1]!;
    if (dt > gapMs) dt = gapMs;
    const s = dt * 0.001;
    unpausedS += s;
    const h = hr[i]!;
    if (Number.isNaN(h)) continue;
    hrS += s;
    const perMin = (c0 + c1 * h) / 4.184;
    if (perMin > 0) kcal += (perMin * s) / 60;
  }
  if (hrS === 0 || hrS < 0.5 * args.movingS) return { kcal: metKcal, method: 'met' };
  // unpaused time without HR at the MET rate
  const rest = Math.max(0, unpausedS - hrS);
  const metRate = args.metTimeS > 0 ? metKcal / args.metTimeS : 0;
  return { kcal: kcal + rest * metRate, method: 'hr' };
}
