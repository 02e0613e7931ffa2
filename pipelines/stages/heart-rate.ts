import type { SportConfig } from '../config.js';
import { type AthleteProfile, FLAG_HR_ARTEFACT, type HrSummary } from '../types.js';

/**
 * Heart rate.
 * - Artefacts: values outside [hrMin, hrMax], or a change from the reference (the last accepted
 *   value) faster than `hrMaxDeltaPerS` bpm/s (+5 bpm slack) — optical sensors lock onto cadence
 *   and chest straps spike on static. After 10 rejected values in a row the reference re-anchors
 *   (the change was real). Artefacts are flagged FLAG_HR_ARTEFACT and ignored. The first
 *   reference is the median of the first `hrSeedMedianOf` in-range values (since 2026.11-3; before,
 *   the first in-range value, so a spike there stood and its true successors were rejected).
 * - Smoothing: centred 5-sample mean of the accepted values.
 * - Time weights: each row owns the interval that ends at it, capped at `maxGapS`.
 * - Avg: time-weighted mean of the smoothed series; zones by % of max HR
 *   (<60, 60–70, 70–80, 80–90, ≥90) and TRIMP of the smoothed series.
 * - Max: the highest accepted value (`hrMaxOfCleaned`, since 2026.11-3: what devices report; the
 *   artefact gate is what keeps spikes out), else the highest value of the smoothed series.
 * - Max HR: the athlete's, else Tanaka (208 − 0.7 × age) from birth year, else 190.
 * - TRIMP (Banister): Σ minutes × HRr × 0.64·e^(1.92·HRr) (men / unknown), 0.86·e^(1.67·HRr) (women),
 *   HRr = (HR − rest)/(max − rest) clamped to [0, 1], rest HR default 60.
 */
export interface HeartRateResult {
  /** smoothed bpm, NaN where none */
  hr: Float32Array;
  /** accepted bpm (artefacts removed, not smoothed), NaN where none */
  clean: Float32Array;
  summary: HrSummary | null;
  artefacts: number;
}

const REANCHOR_AFTER = 10;
const DEFAULT_MAX_HR = 190;
const DEFAULT_REST_HR = 60;

export function maxHrFor(
  athlete: AthleteProfile,
  atTs: number,
): { maxHr: number; source: HrSummary['maxHrSource'] } {
  if (athlete.maxHr !== undefined && athlete.maxHr > 100 && athlete.maxHr < 250) {
    return { maxHr: athlete.maxHr, source: 'athlete' };
  }
  if (athlete.birthYear !== undefined) {
    const age = new Date(atTs).getUTCFullYear() - athlete.birthYear;
    if (age > 5 && age < 110) return { maxHr: 208 - 0.7 * age, source: 'age' };
  }
  return { maxHr: DEFAULT_MAX_HR, source: 'default' };
}

/**
 * The gate's first reference: the median of the first `hrSeedMedianOf` in-range values, at the time
 * of the row that holds it. A lone spike among them cannot be the median.
 */
function seedReference(
  ts: Float64Array,
  hrRaw: Uint8Array,
  n: number,
  cfg: SportConfig,
): { ref: number; refTs: number } {
  const rows: number[] = [];
  for (let i = 0; i < n && rows.length < cfg.hrSeedMedianOf; i++) {
    const h = hrRaw[i]!;
    if (h !== 0 && h >= cfg.hrMin && h <= cfg.hrMax) rows.push(i);
  }
  if (rows.length === 0) return { ref: Number.NaN, refTs: 0 };
  // lower median for an even count; ties keep time order (stable sort)
  const byValue = [...rows].sort((a, b) => hrRaw[a]! - hrRaw[b]!);
  const at = byValue[(byValue.length - 1) >> 1]!;
  return { ref: hrRaw[at]!, refTs: ts[at]! };
}

export function heartRate(
  ts: Float64Array,
  hrRaw: Uint8Array,
  n: number,
  cfg: SportConfig,
  athlete: AthleteProfile,
  flags: Uint8Array,
): HeartRateResult {
  const ok = new Float32Array(n).fill(Number.NaN);
  let ref = Number.NaN;
  let refTs = 0;
  if (cfg.hrSeedMedianOf > 0) ({ ref, refTs } = seedReference(ts, hrRaw, n, cfg));
  let rejects = 0;
  let artefacts = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const h = hrRaw[i]!;
    if (h === 0) continue;
    if (h < cfg.hrMin || h > cfg.hrMax) {
      flags[i]! |= FLAG_HR_ARTEFACT;
      artefacts++;
      continue;
    }
    if (!Number.isNaN(ref)) {
      // |dt|: a seeded reference can lie ahead of the first rows
      const dt = Math.abs(ts[i]! - refTs) * 0.001;
      if (Math.abs(h - ref) > cfg.hrMaxDeltaPerS * dt + 5 && ++rejects <= REANCHOR_AFTER) {
        flags[i]! |= FLAG_HR_ARTEFACT;
        artefacts++;
        continue;
      }
    }
    ref = h;
    refTs = ts[i]!;
    rejects = 0;
    ok[i] = h;
    count++;
  }
  const hr = new Float32Array(n).fill(Number.NaN);
  if (count === 0) return { hr, clean: ok, summary: null, artefacts };

  // Centred 5-sample mean over accepted values, as a sliding window. The values are whole bpm, so
  // the running sum is exact and equals the sum taken window by window.
  let s = 0;
  let c = 0;
  for (let j = 0; j < 2 && j < n; j++) {
    const v = ok[j]!;
    if (!Number.isNaN(v)) {
      s += v;
      c++;
    }
  }
  for (let i = 0; i < n; i++) {
    const enter = i + 2;
    if (enter < n) {
      const v = ok[enter]!;
      if (!Number.isNaN(v)) {
        s += v;
        c++;
      }
    }
    if (!Number.isNaN(ok[i])) hr[i] = s / c;
    const leave = i - 2;
    if (leave >= 0) {
      const v = ok[leave]!;
      if (!Number.isNaN(v)) {
        s -= v;
        c--;
      }
    }
  }

  const { maxHr, source } = maxHrFor(athlete, ts[0]!);
  const rest =
    athlete.restHr !== undefined && athlete.restHr > 25 && athlete.restHr < maxHr
      ? athlete.restHr
      : DEFAULT_REST_HR;
  const female = athlete.sex === 'f';
  const ka = female ? 0.86 : 0.64;
  const kb = female ? 1.67 : 1.92;
  const z = [0, 0, 0, 0, 0] as [number, number, number, number, number];
  const z2 = 0.6 * maxHr;
  const z3 = 0.7 * maxHr;
  const z4 = 0.8 * maxHr;
  const z5 = 0.9 * maxHr;
  let sum = 0;
  let wsum = 0;
  let max = 0;
  let trimp = 0;
  const gapMs = cfg.maxGapS * 1000;
  const peak = cfg.hrMaxOfCleaned ? ok : hr;
  for (let i = 0; i < n; i++) {
    const h = hr[i]!;
    if (Number.isNaN(h)) continue;
    // hr and ok are NaN on the same rows
    if (peak[i]! > max) max = peak[i]!;
    if (i === 0) continue;
    let dtMs = ts[i]! - ts[i - 1]!;
    if (dtMs > gapMs) dtMs = gapMs;
    const w = dtMs * 0.001;
    sum += h * w;
    wsum += w;
    if (h < z2) z[0] += w;
    else if (h < z3) z[1] += w;
    else if (h < z4) z[2] += w;
    else if (h < z5) z[3] += w;
    else z[4] += w;
    let r = (h - rest) / (maxHr - rest);
    r = r < 0 ? 0 : Math.min(r, 1);
    trimp += (w / 60) * r * ka * Math.exp(kb * r);
  }
  const avg = wsum > 0 ? sum / wsum : max;
  return {
    hr,
    clean: ok,
    artefacts,
    summary: { avg, max, zonesS: z, trimp, maxHrUsed: maxHr, maxHrSource: source },
  };
}
