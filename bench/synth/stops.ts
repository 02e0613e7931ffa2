// When the athlete stands still. Shared by generateSession and sampleAt so both stop at the same times.
import { STREAM, streamRng } from './rng.js';

export interface Stop {
  /** index of the first 1 s interval [start, start + 1) with true speed 0 */
  start: number;
  durationS: number;
}

const MIN_STOP_S = 20;
const MAX_STOP_S = 120;
/** At most one stop per this many seconds of session, so stops never touch and most of it is moving. */
const SECONDS_PER_STOP = 180;

/**
 * Stops 20-120 s long, stratified over the moving time (one per equal share, jittered ±30 %), so two
 * stops never merge. Fewer than `count` when the session is short (one per 180 s at most); total stop
 * time is capped at half the session.
 */
export function planStops(seed: number, durationS: number, count: number): Stop[] {
  const n = Math.min(count, Math.floor(durationS / SECONDS_PER_STOP));
  if (n === 0) return [];
  const rng = streamRng(seed, STREAM.stops);
  const durations: number[] = [];
  let total = 0;
  for (let k = 0; k < n; k++) {
    const d = rng.int(MIN_STOP_S, MAX_STOP_S);
    durations.push(d);
    total += d;
  }
  if (total > durationS / 2) {
    const scale = durationS / 2 / total;
    total = 0;
    for (let k = 0; k < n; k++) {
      durations[k] = Math.max(MIN_STOP_S, Math.floor(durations[k]! * scale));
      total += durations[k]!;
    }
  }
  const moving = durationS - total;
  const share = moving / (n + 1);
  const stops: Stop[] = [];
  let stoppedBefore = 0;
  for (let k = 0; k < n; k++) {
    const movingAt = Math.round(share * (k + 1 + rng.uniform(-0.3, 0.3)));
    stops.push({ start: movingAt + stoppedBefore, durationS: durations[k]! });
    stoppedBefore += durations[k]!;
  }
  return stops;
}
