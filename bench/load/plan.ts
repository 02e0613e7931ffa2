// The load run's plan: which workouts, where, when, and which faults each one meets. Pure and deterministic
// in (options, seed): two runs with the same seed send the same samples in the same per-session order, so a
// reconciliation failure can be replayed.

import type { SynthSport } from '../synth/options.js';
import { createRng, hash32 } from '../synth/rng.js';

/** A few cities the workouts start around (a random point within ~5 km of the centre). */
export const CITIES = [
  { name: 'Lausanne', lat: 46.52, lon: 6.63 },
  { name: 'Zurich', lat: 47.37, lon: 8.54 },
  { name: 'London', lat: 51.5, lon: -0.12 },
  { name: 'Boston', lat: 42.36, lon: -71.06 },
  { name: 'Tokyo', lat: 35.68, lon: 139.76 },
] as const;

/** Share of each sport in the mix (sums to 1). */
export const SPORT_MIX: ReadonlyArray<readonly [SynthSport, number]> = [
  ['running', 0.4],
  ['cycling', 0.25],
  ['walking', 0.25],
  ['hiking', 0.1],
];

export interface FaultRates {
  /** chance that a workout has one offline window (socket closed, samples buffered, replayed at reconnect) */
  dropout: number;
  /** per message: sent a second time after its acknowledgement (a device that missed the PUBACK) */
  duplicate: number;
  /** per message: held back and sent after the next message (out of order) */
  reorder: number;
}

export const DEFAULT_FAULTS: FaultRates = { dropout: 0.15, duplicate: 0.01, reorder: 0.02 };

export interface PlanOptions {
  workouts: number;
  /** steady length of every workout, seconds (the session has durationS + 1 samples) */
  durationS: number;
  /** workouts start spread over this many seconds (and so end spread over as many) */
  rampS: number;
  seed: number;
  faults?: FaultRates;
  /** the first `tracers` workouts carry no faults: their samples are sent live, so their latency is the pipeline's */
  tracers?: number;
}

export interface Dropout {
  /** first seq not sent live (buffered) */
  fromSeq: number;
  /** first seq sent live again; the buffer is replayed just before it */
  toSeq: number;
}

export interface WorkoutPlan {
  index: number;
  sport: SynthSport;
  city: string;
  start: { lat: number; lon: number };
  /** seed of its synthetic session (bench/synth) */
  seed: number;
  /** ms after the run's start */
  startOffsetMs: number;
  durationS: number;
  dropout: Dropout | null;
  /** seed of the per-message fault draws (duplicate, reorder) */
  faultSeed: number;
  tracer: boolean;
}

function pickSport(u: number): SynthSport {
  let acc = 0;
  for (const [sport, share] of SPORT_MIX) {
    acc += share;
    if (u < acc) return sport;
  }
  return SPORT_MIX[SPORT_MIX.length - 1]![0];
}

export function planWorkout(o: PlanOptions, index: number): WorkoutPlan {
  const rng = createRng(hash32(o.seed, index, 0x10ad));
  const faults = o.faults ?? DEFAULT_FAULTS;
  const tracer = index < (o.tracers ?? 0);
  const city = CITIES[index % CITIES.length]!;
  // ~5 km around the centre: 0.045 deg of latitude
  const start = {
    lat: city.lat + rng.uniform(-0.045, 0.045),
    lon: city.lon + rng.uniform(-0.045, 0.045) / Math.cos((city.lat * Math.PI) / 180),
  };
  const sport = pickSport(rng.next());
  const startOffsetMs = Math.round((index / Math.max(1, o.workouts)) * o.rampS * 1000 + rng.uniform(0, 1000));
  let dropout: Dropout | null = null;
  const wantsDropout = rng.next() < faults.dropout;
  if (!tracer && wantsDropout && o.durationS >= 20) {
    const len = Math.round(rng.uniform(5, Math.min(180, o.durationS * 0.25)));
    const from = Math.round(rng.uniform(0.2, 0.7) * o.durationS);
    dropout = { fromSeq: from, toSeq: Math.min(o.durationS, from + len) };
  }
  return {
    index,
    sport,
    city: city.name,
    start,
    seed: hash32(o.seed, index, 0x5e55) || 1,
    startOffsetMs,
    durationS: o.durationS,
    dropout,
    faultSeed: hash32(o.seed, index, 0xfa17),
    tracer,
  };
}

/** Per-message fault draws of one workout, in send order. */
export class FaultDraws {
  private readonly rng;
  constructor(
    seed: number,
    private readonly rates: FaultRates,
    private readonly enabled: boolean,
  ) {
    this.rng = createRng(seed);
  }
  /** two draws per message, always taken so the sequence does not depend on which faults are on */
  next(): { duplicate: boolean; reorder: boolean } {
    const d = this.rng.next();
    const r = this.rng.next();
    return {
      duplicate: this.enabled && d < this.rates.duplicate,
      reorder: this.enabled && r < this.rates.reorder,
    };
  }
}
