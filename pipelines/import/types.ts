import type { Sample, Sport } from '../../schemas/types.js';

export type ImportFormat = 'gpx' | 'tcx' | 'fit';

/** Limits that bound the memory and CPU one upload can take. */
export interface ImportLimits {
  /** largest accepted file (bytes, before any parsing) */
  maxBytes: number;
  /** most track points accepted over all activities of one file */
  maxPoints: number;
  /**
   * largest accepted FIT file. FIT is dense (~25 bytes a record) and its decoder builds every
   * message before the point limit can be counted, so the byte limit is what bounds its memory.
   */
  maxFitBytes: number;
}

/**
 * 64 MiB holds a 24 h GPX with every extension at 1 Hz (33 MB) and XML is streamed; 500 000 points
 * is 139 h at 1 Hz; 16 MiB of FIT is ~650 000 records at 25 bytes, measured at ~1 kB of memory
 * each while decoding (docs/imports.md, Limits).
 */
export const DEFAULT_IMPORT_LIMITS: Readonly<ImportLimits> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxPoints: 500_000,
  maxFitBytes: 16 * 1024 * 1024,
});

/** A device-side event found in the file, in device time (ms UTC). */
export interface ImportedEvent {
  kind: 'pause' | 'resume' | 'lap';
  ts: number;
}

/** One lap as the device recorded it (FIT lap message, TCX <Lap>). Null where the file has none. */
export interface RecordedLap {
  startTs: number;
  distanceM: number | null;
  timerS: number | null;
  elapsedS: number | null;
  avgHr: number | null;
  maxHr: number | null;
  calories: number | null;
}

/**
 * The device's own totals, as written in the file (FIT session message; TCX: the sum over <Lap>s).
 * Kept beside what Fitstream computes so the two can be compared; never used to compute anything.
 */
export interface RecordedSummary {
  source: 'fit_session' | 'tcx_laps';
  startTs: number | null;
  distanceM: number | null;
  /** time the device's timer ran (moving time as the device sees it, auto-pause included) */
  timerS: number | null;
  elapsedS: number | null;
  ascentM: number | null;
  descentM: number | null;
  avgHr: number | null;
  maxHr: number | null;
  calories: number | null;
  laps: RecordedLap[];
}

/** Points the parser could not turn into a usable sample field, by reason. */
export interface ImportDropped {
  /** points without a readable time: left out (a sample needs a device time) */
  noTime: number;
  /** coordinates outside WGS84 ranges: the sample is kept without a fix */
  badCoordinate: number;
  /** hr / cadence / power outside what the sample columns hold: the field is left null */
  badValue: number;
}

export interface ImportedActivity {
  format: ImportFormat;
  /** Fitstream sport when the file names one it knows; null otherwise (see fileSport) */
  sport: Sport | null;
  /** the sport as written in the file ('running', 'Biking', 'swimming', ...), null when absent */
  fileSport: string | null;
  /** activity name when the file has one (GPX <trk><name>, FIT sport name) */
  name: string | null;
  /** samples in file order, seq = 0, 1, 2, ... within this activity */
  samples: Sample[];
  /** pause/resume (FIT timer events) and lap markers, sorted by time */
  events: ImportedEvent[];
  recorded: RecordedSummary | null;
  dropped: ImportDropped;
}

export interface ImportResult {
  format: ImportFormat;
  /** GPX: one; TCX: one per <Activity>; FIT: one per session (multisport files have several) */
  activities: ImportedActivity[];
  /** device name when the file states it (GPX creator, TCX <Creator><Name>, FIT manufacturer/product) */
  creator: string | null;
}
