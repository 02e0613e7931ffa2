import type { Sample, Sport } from '../../schemas/types.js';
import { haversine } from '../primitives/geo.js';
import { ImportError } from './errors.js';
import type { ImportDropped, ImportedEvent, ImportLimits } from './types.js';
import { DEFAULT_IMPORT_LIMITS } from './types.js';

export function resolveLimits(limits: Partial<ImportLimits> | undefined): ImportLimits {
  return { ...DEFAULT_IMPORT_LIMITS, ...limits };
}

export function checkSize(bytes: Uint8Array, limits: ImportLimits): void {
  if (bytes.byteLength === 0) throw new ImportError('empty_file', 'the file is empty');
  if (bytes.byteLength > limits.maxBytes) {
    throw new ImportError(
      'file_too_large',
      `the file has ${bytes.byteLength} bytes, more than the limit of ${limits.maxBytes}`,
    );
  }
}

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * ISO 8601 date-time to ms UTC, NaN when unreadable. A time without a zone is read as UTC: GPX
 * and TCX both define their times as UTC, and some writers just leave the 'Z' out.
 */
export function parseIsoTime(s: string): number {
  const m = ISO.exec(s.trim());
  if (!m) return Number.NaN;
  let zone = m[3] ?? 'Z';
  if (zone === 'z') zone = 'Z';
  else if (zone !== 'Z') {
    const sign = zone[0]!;
    const digits = zone.slice(1).replace(':', '');
    zone = `${sign}${digits.slice(0, 2)}:${digits.length > 2 ? digits.slice(2, 4) : '00'}`;
  }
  return Date.parse(`${m[1]}T${m[2]!.replace(',', '.')}${zone}`);
}

/** A finite number from an XML text or attribute, null when absent or unreadable. */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const t = v.trim();
  if (t === '') return null;
  const x = Number(t);
  return Number.isFinite(x) ? x : null;
}

export function emptyDropped(): ImportDropped {
  return { noTime: 0, badCoordinate: 0, badValue: 0 };
}

/** One point as a parser read it, before range checks. */
export interface RawPoint {
  ts: number;
  lat: number | null;
  lon: number | null;
  alt: number | null;
  speed: number | null;
  /** horizontal accuracy, m (FIT record gps_accuracy); absent in GPX and TCX */
  acc?: number | null;
  dist: number | null;
  hr: number | null;
  cadence: number | null;
  power: number | null;
}

/** Largest value the sample columns hold (pipelines/types.ts: hr u8, cadence/power u16 minus the 'none' value). */
const HR_MAX = 255;
const U16_MAX = 0xfffe;

/**
 * Turns raw points into Samples in file order (seq 0, 1, 2, ...), enforcing the point limit over the
 * whole file and the ranges the pipeline's columns hold. A bad field is left null and counted; a
 * point without time is left out and counted.
 */
export class SampleBuilder {
  readonly samples: Sample[] = [];
  readonly dropped: ImportDropped = emptyDropped();
  constructor(private readonly budget: PointBudget) {}

  add(p: RawPoint): void {
    this.addPoint(p.ts, p.lat, p.lon, p.alt, p.speed, p.acc ?? null, p.dist, p.hr, p.cadence, p.power);
  }

  /** add() without the RawPoint: the FIT decoder reads columns and builds no object per point but the Sample. */
  addPoint(
    ts: number,
    lat: number | null,
    lon: number | null,
    alt: number | null,
    speed: number | null,
    acc: number | null,
    dist: number | null,
    hr: number | null,
    cadence: number | null,
    power: number | null,
  ): void {
    this.budget.take();
    if (!Number.isFinite(ts)) {
      this.dropped.noTime++;
      return;
    }
    if (lat !== null || lon !== null) {
      if (lat === null || lon === null || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
        this.dropped.badCoordinate++;
        lat = null;
        lon = null;
      }
    }
    this.samples.push({
      ts: Math.round(ts),
      seq: this.samples.length,
      lat,
      lon,
      alt,
      acc: acc !== null && acc > 0 && acc < 255 ? acc : null,
      speed: speed !== null && speed >= 0 ? speed : null,
      dist: dist !== null && dist >= 0 ? dist : null,
      hr: this.int(hr, HR_MAX),
      cadence: this.int(cadence, U16_MAX),
      power: this.int(power, U16_MAX),
      lap: false,
    });
  }

  private int(v: number | null, max: number): number | null {
    if (v === null) return null;
    const r = Math.round(v);
    if (r < 0 || r > max) {
      this.dropped.badValue++;
      return null;
    }
    return r;
  }
}

/** Counts points over a whole file against `maxPoints`. */
export class PointBudget {
  private used = 0;
  constructor(private readonly max: number) {}
  take(): void {
    if (++this.used > this.max) {
      throw new ImportError('too_many_points', `the file has more than ${this.max} points (the limit)`);
    }
  }
}

/**
 * Sport names as files write them, to Fitstream sports. FIT profile names (snake_case), TCX
 * Sport attribute (Running, Biking, Other), GPX <type> free text, including Strava's numeric GPX
 * types (1 Ride, 4 Hike, 9 Run, 10 Walk). Anything else is null: the caller decides.
 */
const SPORT_NAMES: Readonly<Record<string, Sport>> = {
  running: 'running',
  run: 'running',
  trail_running: 'running',
  treadmill_running: 'running',
  street_running: 'running',
  track_running: 'running',
  '9': 'running',
  cycling: 'cycling',
  biking: 'cycling',
  bike: 'cycling',
  ride: 'cycling',
  road_biking: 'cycling',
  mountain_biking: 'cycling',
  indoor_cycling: 'cycling',
  '1': 'cycling',
  walking: 'walking',
  walk: 'walking',
  '10': 'walking',
  hiking: 'hiking',
  hike: 'hiking',
  '4': 'hiking',
  strength: 'strength',
  strength_training: 'strength',
  weightlifting: 'strength',
};

export function mapSport(name: string | null | undefined): Sport | null {
  if (!name) return null;
  const key = name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return SPORT_NAMES[key] ?? null;
}

/**
 * Marks device laps on the samples: a lap that ends at device time `end` sets `lap` on the last
 * sample at or before it (pipelines/stages/laps.ts closes a lap at a marked sample). The last lap
 * is left unmarked: the end of the session closes it.
 */
export function markLapEnds(samples: Sample[], ends: readonly number[]): void {
  if (ends.length < 2 || samples.length === 0) return;
  // samples by time (file order is usually time order, but need not be): binary search per lap
  const order = samples.map((_, i) => i).sort((a, b) => samples[a]!.ts - samples[b]!.ts || a - b);
  const sorted = [...ends].sort((a, b) => a - b);
  for (let k = 0; k + 1 < sorted.length; k++) {
    const end = sorted[k]!;
    let lo = 0;
    let hi = order.length; // first position whose ts > end
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[order[mid]!]!.ts <= end) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) samples[order[lo - 1]!]!.lap = true;
  }
}

/**
 * Above this mean speed over a segment break (displacement from the last point of one segment to the
 * first of the next, over the time between them), the athlete moved across the break: the device lost
 * the signal, it did not stop its timer. 0.25 m/s is the lowest pause speed of any sport (hiking,
 * pipelines/config.ts), so a break kept as a pause is one that the gap rule would call stopped as well.
 */
export const SEGMENT_BREAK_MOVING_MPS = 0.25;

/**
 * Pause/resume events where a recording breaks into segments (GPX <trkseg>, TCX <Track> within one
 * <Lap>). A device starts a new segment when its timer was stopped or when it lost the signal, and the
 * file does not say which. A break whose displacement says the athlete stood (under
 * SEGMENT_BREAK_MOVING_MPS, or without positions on either side) is a pause, as a FIT timer stop is; one
 * the athlete moved across is signal loss, and is left to the gap rule (stopped unless the
 * displacement says moved), so the distance covered in it is not dropped.
 */
export class SegmentBreaks {
  readonly events: ImportedEvent[] = [];
  private segment: unknown;
  private lastTs = Number.NaN;
  private lastLat: number | null = null;
  private lastLon: number | null = null;

  /**
   * A point of `segment` at `ts` (and its position, null when it has none); `continues`: a new segment that
   * is no break (a TCX lap's first track).
   */
  point(segment: unknown, ts: number, lat: number | null, lon: number | null, continues = false): void {
    if (!Number.isFinite(ts)) return;
    if (
      !continues &&
      this.segment !== undefined &&
      segment !== this.segment &&
      Number.isFinite(this.lastTs) &&
      ts > this.lastTs &&
      !this.movedAcross(ts, lat, lon)
    )
      this.events.push({ kind: 'pause', ts: this.lastTs }, { kind: 'resume', ts });
    this.segment = segment;
    this.lastTs = ts;
    if (lat !== null && lon !== null) {
      this.lastLat = lat;
      this.lastLon = lon;
    }
  }

  private movedAcross(ts: number, lat: number | null, lon: number | null): boolean {
    if (lat === null || lon === null || this.lastLat === null || this.lastLon === null) return false;
    const dtS = (ts - this.lastTs) / 1000;
    return haversine(this.lastLat, this.lastLon, lat, lon) / dtS >= SEGMENT_BREAK_MOVING_MPS;
  }
}
