import type { ManualEntry, SessionControl, Sport, StrengthSet } from '../schemas/types.js';

/**
 * Compact columnar storage of a session's samples: one typed array per field, no per-sample objects.
 * 42 bytes per sample:
 *   ts f64 (8) · seq u32 (4) · lat,lon i32 at 1e-7 deg ≈ 1.1 cm (8) · alt,acc,speed,dist f32 (16) ·
 *   hr u8 (1) · cadence,power u16 (4) · flags u8 (1)
 * Missing values: seq = SEQ_NONE, lat/lon = COORD_NONE, f32 columns NaN, hr 0, cadence/power U16_NONE.
 * Arrays may be longer than `length` (growth headroom); only [0, length) is meaningful.
 */
export interface SampleColumns {
  length: number;
  ts: Float64Array;
  seq: Uint32Array;
  lat: Int32Array;
  lon: Int32Array;
  alt: Float32Array;
  acc: Float32Array;
  speed: Float32Array;
  dist: Float32Array;
  hr: Uint8Array;
  cadence: Uint16Array;
  power: Uint16Array;
  /** input-side flags: FLAG_LAP, FLAG_LATE */
  flags: Uint8Array;
}

export const SEQ_NONE = 0xffffffff;
export const COORD_NONE = -0x80000000;
export const U16_NONE = 0xffff;
export const COORD_SCALE = 1e7;

/** Per-sample flag bits (input flags and stage flags share one byte in the output). */
export const FLAG_LAP = 1;
/** arrived after the reorder window had passed it (triggered a recompute) */
export const FLAG_LATE = 2;
/** no usable fix: missing, (0,0), out of range, or accuracy worse than the sport's limit */
export const FLAG_INVALID = 4;
/** rejected as a GPS jump (speed gate or Kalman innovation gate) */
export const FLAG_JUMP = 8;
/** inside an explicit device pause or an auto-pause */
export const FLAG_PAUSED = 16;
/** HR value dropped as an artefact */
export const FLAG_HR_ARTEFACT = 32;
/** the track re-anchored here after a run of rejected fixes: no distance is added across it */
export const FLAG_BREAK = 64;
/** any reason the fix did not feed distance: INVALID | JUMP */
export const FLAG_REJECTED = FLAG_INVALID | FLAG_JUMP;

export type SampleErrorCode = 'sample_malformed' | 'ts_invalid' | 'seq_invalid';

export interface SampleFailure {
  /** index in the input array */
  index: number;
  error: { code: SampleErrorCode; message: string };
}

export interface AthleteProfile {
  maxHr?: number;
  restHr?: number;
  birthYear?: number;
  weightKg?: number;
  sex?: 'm' | 'f';
}

export interface ComputeInput {
  userId: string;
  deviceId: string;
  sessionId: string;
  sport: Sport;
  samples: readonly import('../schemas/types.js').Sample[] | SampleColumns;
  controls: readonly SessionControl[];
  sets: readonly StrengthSet[];
  /** manual entries (stages/manual.ts): the activity's figures when the session has no samples */
  manual?: readonly ManualEntry[];
  athlete: AthleteProfile;
}

export interface HrSummary {
  avg: number;
  max: number;
  /** seconds in zones 1..5 (of max HR: <60 %, 60–70, 70–80, 80–90, ≥90 %) */
  zonesS: [number, number, number, number, number];
  /** Banister TRIMP */
  trimp: number;
  maxHrUsed: number;
  maxHrSource: 'athlete' | 'age' | 'default';
}

export interface Lap {
  index: number;
  startTs: number;
  endTs: number;
  elapsedS: number;
  movingS: number;
  distanceM: number;
  avgSpeedMps: number;
  avgHr: number | null;
  maxHr: number | null;
  elevGainM: number;
}

export interface Split {
  index: number;
  /** split length (m): full splits are 1000 / 1609.344, the last one may be shorter */
  distanceM: number;
  elapsedS: number;
  movingS: number;
  paceSPerKm: number | null;
  avgSpeedMps: number;
  avgHr: number | null;
  elevGainM: number;
  elevLossM: number;
}

export interface BestEffort {
  /** 'distance': fastest time over distanceM; 'duration': highest average over durationS */
  kind: 'distance' | 'duration';
  name: string;
  distanceM: number;
  durationS: number;
  startTs: number;
  endTs: number;
  avgSpeedMps: number;
  /** for ride duration efforts when power is present */
  avgPowerW: number | null;
}

export interface StrengthSummary {
  sets: { exercise: string; reps: number; weightKg: number | null; startTs: number; endTs: number | null }[];
  totalReps: number;
  totalVolumeKg: number;
  exercises: { exercise: string; sets: number; reps: number; volumeKg: number }[];
}

/** Everything GET /activities/{id} returns. Plain JSON. */
export interface ActivitySummary {
  activityId: string;
  userId: string;
  deviceId: string;
  sessionId: string;
  sport: Sport;
  startTs: number;
  endTs: number;
  elapsedS: number;
  movingS: number;
  distanceM: number;
  deviceDistanceM: number | null;
  rawDistanceM: number;
  avgSpeedMps: number;
  maxSpeedMps: number;
  avgPaceSPerKm: number | null;
  elevGainM: number;
  elevLossM: number;
  minAltM: number | null;
  maxAltM: number | null;
  hr: HrSummary | null;
  cadenceAvg: number | null;
  powerAvg: number | null;
  powerMax: number | null;
  normalizedPower: number | null;
  calories: number;
  /** stated: a manual entry's own figure */
  caloriesMethod: 'hr' | 'met' | 'stated';
  laps: Lap[];
  splitsKm: Split[];
  splitsMile: Split[];
  bestEfforts: BestEffort[];
  polyline: string;
  sampleCount: number;
  rejectedCount: number;
  duplicateCount: number;
  strength: StrengthSummary | null;
  algorithmVersion: string;
}

/**
 * Per-sample output rows for the ClickHouse samples table, columnar: row i of the session is
 * element i of every array. Identity columns (deviceId, sessionId) are constant per session and
 * given once. Missing values: NaN in float columns, SEQ_NONE for seq, 0 for hr, U16_NONE for
 * cadence/power. Coordinates are degrees (raw: as received after 1e-7 quantisation).
 */
export interface CleanSamples {
  deviceId: string;
  sessionId: string;
  length: number;
  ts: Float64Array;
  seq: Uint32Array;
  lat: Float64Array;
  lon: Float64Array;
  latSmooth: Float64Array;
  lonSmooth: Float64Array;
  alt: Float32Array;
  altSmooth: Float32Array;
  /** smoothed speed m/s */
  speed: Float32Array;
  /** cumulative cleaned distance m */
  distance: Float64Array;
  hr: Uint8Array;
  cadence: Uint16Array;
  power: Uint16Array;
  /** FLAG_* bitmask */
  flags: Uint8Array;
}

export interface ActivityResult {
  summary: ActivitySummary;
  samples: CleanSamples;
  /** input samples that could not be used at all (dead-letter them) */
  failures: SampleFailure[];
}

/** The cleaned per-row series the summary stages (pace, laps, splits, best efforts) read. */
export interface Track {
  n: number;
  ts: Float64Array;
  /** cumulative cleaned distance, m */
  dist: Float64Array;
  /** cumulative moving time, s */
  moving: Float64Array;
  /** smoothed speed m/s (NaN where unknown) */
  speed: Float32Array;
  /** smoothed HR (NaN where none) */
  hr: Float32Array;
  /** smoothed altitude (NaN where none) */
  alt: Float32Array;
  power: Uint16Array;
  flags: Uint8Array;
  elevHysteresisM: number;
}
