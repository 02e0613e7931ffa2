// SynthOptions, its defaults and its validation. Validation is by hand rather than zod because sampleAt
// resolves options on every call (load generation calls it millions of times).

export type SynthSport = 'running' | 'cycling' | 'walking' | 'hiking';

export interface SynthOptions {
  sport: SynthSport;
  seed: number;
  /** wall-clock length of the session incl. stops, 1 Hz samples */
  durationS: number;
  /** ms, default 1_760_000_000_000 */
  startTs?: number;
  /** default 46.52, 6.63 */
  start?: { lat: number; lon: number };
  /** per-axis sigma of horizontal noise, default 5 */
  gpsNoiseM?: number;
  /** per-sample chance of a 50-300 m GPS jump (1-3 samples long), default 0.004 */
  jumpProbability?: number;
  /** sigma of altitude noise, default 3 */
  altNoiseM?: number;
  /** per-sample chance of an HR artefact (0, 255 or doubled value), default 0.005 */
  hrSpikeProbability?: number;
  /** number of stops (traffic lights etc.), 20-120 s each, default 3 */
  stops?: number;
  /** fill Sample.acc with a plausible value (noise sigma-ish), default true */
  accuracyReported?: boolean;
  /** set Sample.lap=true when ground-truth distance crosses multiples, default none */
  lapEveryM?: number;
}

export type ResolvedOptions = Required<Omit<SynthOptions, 'lapEveryM'>> & { lapEveryM: number | null };

export const DEFAULTS = {
  startTs: 1_760_000_000_000,
  start: { lat: 46.52, lon: 6.63 },
  gpsNoiseM: 5,
  jumpProbability: 0.004,
  altNoiseM: 3,
  hrSpikeProbability: 0.005,
  stops: 3,
  accuracyReported: true,
} as const;

/** Two days of 1 Hz samples; longer is almost certainly a unit mistake (ms passed as s). */
export const MAX_DURATION_S = 172_800;

const SPORTS: readonly SynthSport[] = ['running', 'cycling', 'walking', 'hiking'];

function fail(name: string, expected: string, got: unknown): never {
  throw new RangeError(`SynthOptions.${name} must be ${expected}, got ${String(got)}`);
}

function finiteIn(name: string, v: number, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
    fail(name, `a number in [${lo}, ${hi}]`, v);
  return v;
}

function intIn(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) fail(name, `an integer in [${lo}, ${hi}]`, v);
  return v;
}

export function resolveOptions(o: SynthOptions): ResolvedOptions {
  if (!SPORTS.includes(o.sport)) fail('sport', SPORTS.join(' | '), o.sport);
  if (!Number.isSafeInteger(o.seed)) fail('seed', 'a safe integer', o.seed);
  const start = o.start ?? DEFAULTS.start;
  // Beyond ±80° the east-west metre-to-degree scale blows up and nobody trains there anyway.
  finiteIn('start.lat', start.lat, -80, 80);
  finiteIn('start.lon', start.lon, -180, 180);
  const lapEveryM = o.lapEveryM ?? null;
  if (lapEveryM !== null && !(Number.isFinite(lapEveryM) && lapEveryM > 0)) {
    fail('lapEveryM', 'a positive number', lapEveryM);
  }
  return {
    sport: o.sport,
    seed: o.seed,
    durationS: intIn('durationS', o.durationS, 1, MAX_DURATION_S),
    startTs: intIn('startTs', o.startTs ?? DEFAULTS.startTs, 0, Number.MAX_SAFE_INTEGER),
    start,
    gpsNoiseM: finiteIn('gpsNoiseM', o.gpsNoiseM ?? DEFAULTS.gpsNoiseM, 0, 1000),
    jumpProbability: finiteIn('jumpProbability', o.jumpProbability ?? DEFAULTS.jumpProbability, 0, 1),
    altNoiseM: finiteIn('altNoiseM', o.altNoiseM ?? DEFAULTS.altNoiseM, 0, 1000),
    hrSpikeProbability: finiteIn(
      'hrSpikeProbability',
      o.hrSpikeProbability ?? DEFAULTS.hrSpikeProbability,
      0,
      1,
    ),
    stops: intIn('stops', o.stops ?? DEFAULTS.stops, 0, 10_000),
    accuracyReported: o.accuracyReported ?? DEFAULTS.accuracyReported,
    lapEveryM,
  };
}
