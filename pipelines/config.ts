import type { Sport } from '../schemas/types.js';

/**
 * Versioned per-sport thresholds. An activity stores the version it was computed with, so a change
 * of algorithm or threshold is a new version string and history can be replayed under it. Never edit
 * a released version in place: add a new entry to CONFIGS and bump ALGORITHM_VERSION.
 *
 * Version format: `YYYY.MM-N` (release month, N-th revision in that month).
 */
export const ALGORITHM_VERSION = '2026.12-3';

export interface SportConfig {
  /** false for sports without GPS (strength): GPS stages are skipped. */
  readonly gps: boolean;
  /** fixes with reported horizontal accuracy worse than this (m) are dropped as invalid */
  readonly maxAccuracyM: number;
  /** accuracy assumed when the device reports none (m, 1 sigma) */
  readonly defaultAccuracyM: number;
  /** floor on the accuracy fed to the Kalman filter (devices over-promise) */
  readonly minAccuracyM: number;
  /** hard speed gate: implied speed between accepted fixes above this is a jump (m/s) */
  readonly maxSpeedMps: number;
  /** Kalman process noise: acceleration spectral density (m^2/s^3) */
  readonly processNoise: number;
  /** Doppler (device) speed 1-sigma (m/s) for the speed-aided pass; 0 disables it */
  readonly speedSigmaMps: number;
  /** speed-aided passes (each takes its heading from the previous one); 0 disables speed aiding */
  readonly aidedPasses: number;
  /** share of the pass-1 velocity variance added to the speed measurement (heading uncertainty) */
  readonly headingWeight: number;
  /** speed-aided pass: position variance multiplier (GPS error is time-correlated, so a fix carries
   * less independent information than its accuracy suggests once the velocity is measured) */
  readonly aidedPositionVarScale: number;
  /** Kalman innovation gate: squared Mahalanobis distance (2 dof) above which a fix is rejected */
  readonly gateChi2: number;
  /** after this many consecutive gated fixes the filter re-anchors (the jump was real) */
  readonly maxConsecutiveRejects: number;
  /** auto-pause: smoothed speed below this (m/s) counts as stopped */
  readonly pauseSpeedMps: number;
  /** auto-pause: a stop shorter than this (s) still counts as moving */
  readonly minPauseS: number;
  /** a gap between samples longer than this (s) is treated as paused unless the implied speed says moving */
  readonly maxGapS: number;
  /** altitude Kalman: terrain process noise per distance (scaled by v^3 in time) and measurement sigma (m) */
  readonly altProcessNoise: number;
  readonly altSigmaM: number;
  /** elevation hysteresis: a climb or descent must exceed this (m) to count */
  readonly elevHysteresisM: number;
  /** HR: accepted range (bpm) and maximum plausible change per second */
  readonly hrMin: number;
  readonly hrMax: number;
  readonly hrMaxDeltaPerS: number;
  /** HR: the gate's first reference is the median of the first this-many in-range values
   * (0: the first in-range value, unchecked) */
  readonly hrSeedMedianOf: number;
  /** HR: max (session, laps, splits) is the highest artefact-cleaned value (true) or the highest
   * value of the centred 5-sample mean (false) */
  readonly hrMaxOfCleaned: boolean;
  /** no GPS track: the distance total is the device counter's maximum (true), or its rise from the
   * first record (false); per-row distance is the rise in both */
  readonly deviceDistanceIsCounterMax: boolean;
  /** no fix of the session reports an accuracy: estimate the fixes' noise from the track itself
   * (stages/smooth-gps.ts, estimateFixSigma) instead of assuming defaultAccuracyM, which stays the
   * upper bound of the estimate (false: defaultAccuracyM) */
  readonly estimateFixSigma: boolean;
  /** with estimateFixSigma: the floor on the estimated noise (m). minAccuracyM floors reported
   * accuracies because devices over-promise; an estimate from the track has no such bias (motion
   * only adds to it), so it may sit lower. Equal to minAccuracyM before 2026.12-2. */
  readonly estimatedSigmaMinM: number;
  /** a device distance counter on most rows: distance follows it, and the track shown is the
   * positions-only smoothing, close to the fixes (false: distance is the length of the track) */
  readonly followOdometer: boolean;
  /** a gap longer than maxGapS is moving only when the displacement over it says so (false: the
   * speeds at its two ends decide) */
  readonly gapByDisplacement: boolean;
  /** altitude: estimate the readings' noise from the profile (barometric altitude is far quieter than
   * GPS altitude); a profile quieter than altQuietSigmaM is smoothed as its own noise, floored at
   * altSigmaMinM, others as altSigmaM (false: altSigmaM) */
  readonly estimateAltSigma: boolean;
  readonly altQuietSigmaM: number;
  readonly altSigmaMinM: number;
  /** with estimateAltSigma: the hysteresis is this many σ, between elevHysteresisMinM and
   * elevHysteresisM */
  readonly elevHysteresisPerSigma: number;
  readonly elevHysteresisMinM: number;
  /** altitude: a gap between rows longer than this (s) re-starts the smoother on the next reading;
   * 0: never */
  readonly altBreakGapS: number;
  /** hard jump gate: when it re-anchors after maxConsecutiveRejects (the rejected run was the truth),
   * the rejected fixes that chain onto the new anchor within the speed limit are accepted again and
   * the break moves to the first of them, so the run adds its distance (false: the run stays rejected
   * and the break sits on the anchor) */
  readonly reanchorAcceptsRun: boolean;
  /** an auto-paused stretch (not a device pause) adds the net displacement of the smoothed track
   * across it when that exceeds pauseNetMinSigmas × the fixes' combined noise: where the track
   * resumes elsewhere the athlete did go there, slowly; the back-and-forth while standing stays out
   * (false: an auto-paused stretch adds nothing) */
  readonly pauseNetDisplacement: boolean;
  readonly pauseNetMinSigmas: number;
  /** with estimateFixSigma: a track whose median interval between accepted fixes is at least this
   * (s) is floored at estimatedSigmaSparseMinM instead of estimatedSigmaMinM; 0: never */
  readonly sparseFixIntervalS: number;
  readonly estimatedSigmaSparseMinM: number;
  /** with estimateFixSigma: the estimate is extrapolated to lag 0 from the estimates over
   * consecutive fixes and over every other fix, which removes what motion adds to it */
  readonly fixSigmaLagExtrapolate: boolean;
  /** MET used for calories when no HR and no speed-based formula applies */
  readonly met: number;
  /** Douglas–Peucker polyline: max points kept and the starting tolerance (m) */
  readonly polylineMaxPoints: number;
  readonly polylineToleranceM: number;
}

const base: SportConfig = {
  gps: true,
  maxAccuracyM: 50,
  defaultAccuracyM: 10,
  minAccuracyM: 2,
  maxSpeedMps: 12,
  processNoise: 0.5,
  speedSigmaMps: 0.2,
  headingWeight: 0,
  aidedPasses: 2,
  aidedPositionVarScale: 1000,
  gateChi2: 30,
  maxConsecutiveRejects: 8,
  pauseSpeedMps: 0.5,
  minPauseS: 5,
  maxGapS: 10,
  altProcessNoise: 2e-6,
  altSigmaM: 3,
  elevHysteresisM: 3,
  hrMin: 30,
  hrMax: 230,
  hrMaxDeltaPerS: 20,
  hrSeedMedianOf: 0,
  hrMaxOfCleaned: false,
  deviceDistanceIsCounterMax: false,
  estimateFixSigma: false,
  estimatedSigmaMinM: 2,
  followOdometer: false,
  gapByDisplacement: false,
  estimateAltSigma: false,
  altQuietSigmaM: 0,
  altSigmaMinM: 3,
  elevHysteresisPerSigma: 0,
  elevHysteresisMinM: 3,
  altBreakGapS: 0,
  reanchorAcceptsRun: false,
  pauseNetDisplacement: false,
  pauseNetMinSigmas: 0,
  sparseFixIntervalS: 0,
  estimatedSigmaSparseMinM: 2,
  fixSigmaLagExtrapolate: false,
  met: 8,
  polylineMaxPoints: 500,
  polylineToleranceM: 2,
};

type SportTable = Readonly<Record<Sport, SportConfig>>;

const v2026_11_1: SportTable = Object.freeze({
  running: Object.freeze({ ...base, maxSpeedMps: 12, processNoise: 0.5, pauseSpeedMps: 0.6, met: 9.8 }),
  walking: Object.freeze({
    ...base,
    maxSpeedMps: 4,
    processNoise: 0.05,
    altProcessNoise: 4e-6,
    pauseSpeedMps: 0.3,
    met: 3.5,
  }),
  hiking: Object.freeze({
    ...base,
    maxSpeedMps: 5,
    processNoise: 0.05,
    altProcessNoise: 4e-6,
    pauseSpeedMps: 0.25,
    met: 6.0,
  }),
  cycling: Object.freeze({
    ...base,
    maxSpeedMps: 30,
    processNoise: 1.0,
    altProcessNoise: 1e-6,
    pauseSpeedMps: 1.0,
    met: 7.5,
  }),
  strength: Object.freeze({ ...base, gps: false, maxSpeedMps: 4, pauseSpeedMps: 0, met: 3.5 }),
});

// 2026.11-2: elevation hysteresis 4 m for running and cycling, 6 m for walking and hiking (was 3 m).
// Chosen by the worst gain error over the 30 accuracy sessions and 30 held-out ones
// (bench/pipeline-elevation.ts, docs/algorithms.md "Elevation variants"): after smoothing, the
// altitude still wanders by 1.3–2.3 m RMS on the time scale of the noise, and at walking pace
// that wander fits 4–6 m swings into a few hundred metres of path, which a 3 m threshold counts.
// Hiking: speed-aided position variance ×3000 (was ×1000). At 0.5 m/s the correlated GPS error
// moves the fix by more than the hiker moves; pulled towards it, the path gains sideways wiggle
// (+0.8–1.1 % distance on slow climbs). Worst error over 15 hikes: 1.14 % → 0.58 %.
const v2026_11_2: SportTable = Object.freeze({
  running: Object.freeze({ ...v2026_11_1.running, elevHysteresisM: 4 }),
  walking: Object.freeze({ ...v2026_11_1.walking, elevHysteresisM: 6 }),
  hiking: Object.freeze({ ...v2026_11_1.hiking, elevHysteresisM: 6, aidedPositionVarScale: 3000 }),
  cycling: Object.freeze({ ...v2026_11_1.cycling, elevHysteresisM: 4 }),
  strength: v2026_11_1.strength,
});

// 2026.11-3, every sport (docs/algorithms.md "2026.11-3"):
// - max HR is the highest artefact-cleaned value, as devices report it, not the max of the centred
//   5-sample mean, which put it 0.2–3 bpm below the device's max on five of six real recordings
//   (fenix 5 ride 111 vs 114: five records span four gaps, 24 s with 6 s smart recording).
// - the HR gate's first reference is the median of the first 5 in-range values: the causal gate
//   trusted the first value, so a doubled first reading stood and its true successors were rejected.
// - without a GPS track, distance is the device counter's maximum, the same as deviceDistanceM and
//   the device's own session total (edge 530: 6873.6 m; 2026.11-2 subtracted the first record's 4.76 m).
const v3 = (c: SportConfig): SportConfig =>
  Object.freeze({ ...c, hrSeedMedianOf: 5, hrMaxOfCleaned: true, deviceDistanceIsCounterMax: true });
const v2026_11_3: SportTable = Object.freeze({
  running: v3(v2026_11_2.running),
  walking: v3(v2026_11_2.walking),
  hiking: v3(v2026_11_2.hiking),
  cycling: v3(v2026_11_2.cycling),
  strength: v3(v2026_11_2.strength),
});

// 2026.12-1, every sport with GPS (issue 16, docs/algorithms.md "2026.12-1"): what real recordings
// showed on the corpus of pipelines/import/corpus.ts.
// - without reported accuracy, the fixes' noise is estimated from the track (device tracks are already
//   filtered: assuming 10 m cut their corners);
// - distance follows the device's odometer where the rows carry one, and the track shown is then the
//   positions-only smoothing (the speed-aided track drifted tens of metres from the fixes);
// - a gap without samples is stopped unless the displacement over it says the athlete moved;
// - altitude noise estimated from the profile (barometric altimeters: well under the 3 m assumed),
//   with a hysteresis of 4σ (2 m at least), and a gap in the recording re-starts the altitude
//   smoother (the vertical rate carried through a café stop predicted hundreds of metres);
// - speed caps: walking 4 -> 8 m/s, hiking 5 -> 8 m/s (real 5-8 m/s stretches were rejected).
const v4 = (c: SportConfig): SportConfig =>
  Object.freeze({
    ...c,
    estimateFixSigma: true,
    followOdometer: true,
    gapByDisplacement: true,
    estimateAltSigma: true,
    altSigmaMinM: 0.3,
    elevHysteresisPerSigma: 4,
    elevHysteresisMinM: 2,
    altQuietSigmaM: 1,
    altBreakGapS: c.maxGapS,
  });
const v2026_12_1: SportTable = Object.freeze({
  running: v4(v2026_11_3.running),
  walking: v4({ ...v2026_11_3.walking, maxSpeedMps: 8 }),
  hiking: v4({ ...v2026_11_3.hiking, maxSpeedMps: 8 }),
  cycling: v4(v2026_11_3.cycling),
  strength: v4(v2026_11_3.strength),
});

// 2026.12-2, running and cycling (issue 16, docs/algorithms.md "2026.12-2"): the noise estimated
// from a track without reported accuracy is floored at 0.5 m, not at the 2 m floor for reported
// accuracies. Every track of the real corpus estimates 0.07-1.65 m, so all of them were smoothed as
// 2 m fixes, and on phone tracks with fixes 3-4 s apart that cut the bends between the fixes
// (My Tracks -1.15 %, Nike Run Club -1.42 % of the raw haversine; 2026.12-2: -0.73 / -0.89 %).
// Walking and hiking keep 2 m: at their speeds the time-correlated part of the GPS error, which the
// estimate (second differences) does not see, moves a fix more than the athlete moves between two,
// and 0.5 m there added 0.05-0.10 % to three of the ten synthetic walks and hikes without reported
// accuracy (the other 27 synthetic sessions are unchanged by 0.5 m).
const v5 = (c: SportConfig): SportConfig => Object.freeze({ ...c, estimatedSigmaMinM: 0.5 });
const v2026_12_2: SportTable = Object.freeze({
  running: v5(v2026_12_1.running),
  walking: v2026_12_1.walking,
  hiking: v2026_12_1.hiking,
  cycling: v5(v2026_12_1.cycling),
  strength: v2026_12_1.strength,
});

// 2026.12-3, every sport with GPS (issue 16, docs/algorithms.md "2026.12-3"): the distance the
// no-total tracks of the real corpus lost against their raw haversine.
// - the hard jump gate's re-anchor accepts the rejected run that chains onto the new anchor, so a
//   relocation after signal loss loses only the jump itself (GPSBabel lake loop: 8 fixes at 5-11 m/s);
// - an auto-paused stretch adds the net displacement of the track across it beyond 3σ of the
//   fixes' noise: a slow climb in a 10 s log was "standing" (GPSMAP 64s: 778 m net of 1 380 m);
// - a sparse log (median interval >= 3 s) is floored lower: walking and hiking 0.5 m (was 2 m),
//   running and cycling 0.1 m with the noise estimate extrapolated to lag 0 from lags 1 and 2,
//   since at 3-10 s between fixes the second differences measure the bends, not the noise
//   (Strava export -1.98 -> -0.24 % of raw). 1 Hz tracks, every synthetic session included, keep
//   2026.12-2's estimate and floors.
const v6 = (c: SportConfig, sparseMinM: number, lagExtrapolate: boolean): SportConfig =>
  Object.freeze({
    ...c,
    reanchorAcceptsRun: true,
    pauseNetDisplacement: true,
    pauseNetMinSigmas: 3,
    sparseFixIntervalS: 3,
    estimatedSigmaSparseMinM: sparseMinM,
    fixSigmaLagExtrapolate: lagExtrapolate,
  });
const v2026_12_3: SportTable = Object.freeze({
  running: v6(v2026_12_2.running, 0.1, true),
  walking: v6(v2026_12_2.walking, 0.5, false),
  hiking: v6(v2026_12_2.hiking, 0.5, false),
  cycling: v6(v2026_12_2.cycling, 0.1, true),
  strength: v2026_12_2.strength,
});

/** Every released configuration, by version. Old versions stay so history replays bit-for-bit. */
export const CONFIGS: Readonly<Record<string, SportTable>> = Object.freeze({
  '2026.11-1': v2026_11_1,
  '2026.11-2': v2026_11_2,
  '2026.11-3': v2026_11_3,
  '2026.12-1': v2026_12_1,
  '2026.12-2': v2026_12_2,
  [ALGORITHM_VERSION]: v2026_12_3,
});

export class UnknownAlgorithmVersionError extends Error {
  readonly code = 'unknown_algorithm_version' as const;
  constructor(version: string) {
    super(`unknown algorithm version '${version}' (known: ${Object.keys(CONFIGS).join(', ')})`);
  }
}

export function sportConfig(sport: Sport, version: string = ALGORITHM_VERSION): SportConfig {
  const table = CONFIGS[version];
  if (!table) throw new UnknownAlgorithmVersionError(version);
  return table[sport] ?? table.running;
}

/** Session-level knobs that are not per sport. */
export const SESSION_DEFAULTS = Object.freeze({
  /** samples up to this far (device time, ms) behind the newest one are reordered silently */
  reorderWindowMs: 10_000,
});

/** Best-effort targets. */
export const RUN_BEST_EFFORTS_M: readonly number[] = [400, 1000, 1609.344, 5000, 10000, 21097.5, 42195];
/**
 * Ride windows, ascending. 5 s and 60 s came after 2026.12-1 without a new algorithm version: they add
 * entries and change none of the 300/1200/3600 s ones (docs/algorithms.md, best efforts).
 */
export const RIDE_BEST_EFFORTS_S: readonly number[] = [5, 60, 300, 1200, 3600];
