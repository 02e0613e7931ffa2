/**
 * An activity's streams (`GET /v1/activities/{id}/streams`) from its one `activity_streams` row
 * (docs/analytics.md): Strava's stream keys and resolutions, each stream the cleaned series and,
 * where the raw one differs in kind (position, altitude), the raw series beside it.
 */

/** The bits of `activity_streams.present` that the streams read (services/worker/clickhouse-rows.ts). */
const BIT = {
  lat: 2,
  lon: 4,
  alt: 8,
  hr: 128,
  cadence: 256,
  power: 512,
  latSmooth: 2048,
  lonSmooth: 4096,
  altSmooth: 8192,
  speed: 16384,
  distance: 32768,
} as const;
/** pipelines' FLAG_PAUSED: the sample lies in a pause (auto-pause or the athlete's) */
const FLAG_PAUSED = 16;

export const STREAM_KEYS = [
  'time',
  'latlng',
  'distance',
  'altitude',
  'heartrate',
  'velocity_smooth',
  'cadence',
  'watts',
  'moving',
] as const;
export type StreamKey = (typeof STREAM_KEYS)[number];

/** Points per stream at each resolution (Strava's); without one, every sample. */
export const RESOLUTION_POINTS = { low: 100, medium: 1000, high: 10_000 } as const;
export type Resolution = keyof typeof RESOLUTION_POINTS;

/** The row as ClickHouse's JSON gives it (64-bit integers may come quoted). */
export interface StreamsRow {
  version: string | number;
  ts: (string | number)[];
  lat: number[];
  lon: number[];
  lat_smooth: number[];
  lon_smooth: number[];
  alt: number[];
  alt_smooth: number[];
  speed: number[];
  distance_m: number[];
  hr: number[];
  cadence: number[];
  power: number[];
  flags: number[];
  present: number[];
}

export interface Stream {
  data: unknown[];
  raw?: unknown[];
}

export interface Streams {
  version: number;
  original_size: number;
  size: number;
  resolution: Resolution | 'all';
  series_type: 'time';
  streams: Partial<Record<StreamKey, Stream>>;
}

/**
 * Indices of `points` samples spread evenly over `n` (first and last included), or every index
 * when there are no more than that.
 */
export function sampleIndices(n: number, points: number | undefined): number[] {
  if (points === undefined || n <= points) return Array.from({ length: n }, (_, i) => i);
  if (points === 1) return [0];
  return Array.from({ length: points }, (_, k) => Math.round((k * (n - 1)) / (points - 1)));
}

const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export function buildStreams(row: StreamsRow, keys: readonly StreamKey[], resolution?: Resolution): Streams {
  const n = row.ts.length;
  const at = sampleIndices(n, resolution ? RESOLUTION_POINTS[resolution] : undefined);
  const t0 = n > 0 ? Number(row.ts[0]) : 0;
  const has = (i: number, bit: number) => (row.present[i]! & bit) !== 0;
  const series = (f: (i: number) => unknown) => at.map(f);
  const pair = (i: number, latBit: number, lonBit: number, lat: number[], lon: number[]) =>
    has(i, latBit) && has(i, lonBit) ? [lat[i]!, lon[i]!] : null;
  const value = (i: number, bit: number, xs: number[], digits?: number) =>
    has(i, bit) ? (digits === undefined ? xs[i]! : round(xs[i]!, digits)) : null;
  const make: Record<StreamKey, () => Stream> = {
    time: () => ({ data: series((i) => round((Number(row.ts[i]) - t0) / 1000, 3)) }),
    latlng: () => ({
      data: series((i) => pair(i, BIT.latSmooth, BIT.lonSmooth, row.lat_smooth, row.lon_smooth)),
      raw: series((i) => pair(i, BIT.lat, BIT.lon, row.lat, row.lon)),
    }),
    distance: () => ({ data: series((i) => value(i, BIT.distance, row.distance_m, 2)) }),
    altitude: () => ({
      data: series((i) => value(i, BIT.altSmooth, row.alt_smooth, 2)),
      raw: series((i) => value(i, BIT.alt, row.alt, 2)),
    }),
    heartrate: () => ({ data: series((i) => value(i, BIT.hr, row.hr)) }),
    velocity_smooth: () => ({ data: series((i) => value(i, BIT.speed, row.speed, 3)) }),
    cadence: () => ({ data: series((i) => value(i, BIT.cadence, row.cadence)) }),
    watts: () => ({ data: series((i) => value(i, BIT.power, row.power)) }),
    moving: () => ({ data: series((i) => (row.flags[i]! & FLAG_PAUSED) === 0) }),
  };
  const streams: Partial<Record<StreamKey, Stream>> = {};
  for (const k of keys) streams[k] = make[k]();
  return {
    version: Number(row.version),
    original_size: n,
    size: at.length,
    resolution: resolution ?? 'all',
    series_type: 'time',
    streams,
  };
}
