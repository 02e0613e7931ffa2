import type { SportConfig } from '../config.js';
import { DEG, EARTH_RADIUS_M, haversine } from '../primitives/geo.js';
import { COORD_NONE, FLAG_BREAK, FLAG_INVALID, FLAG_JUMP, type SampleColumns } from '../types.js';

/**
 * GPS cleaning, first line: physically impossible fixes.
 *
 * 1. Invalid: no fix, (0,0) (a classic "no fix yet" placeholder), |lat| > 90 or |lon| > 180, or a
 *    reported accuracy worse than `maxAccuracyM`.
 * 2. Jump: the implied speed from the last accepted fix exceeds the sport's `maxSpeedMps`, with an
 *    allowance of 3 sigma of the two fixes' combined accuracy (so noise alone is never a jump).
 *    After `maxConsecutiveRejects` rejected fixes in a row the track re-anchors on the current fix
 *    (the rejected run was the truth — e.g. the anchor itself was the outlier) and the row is
 *    marked FLAG_BREAK so no distance is added across the discontinuity.
 * The Kalman stage (smooth-gps) adds a statistical innovation gate on top of this hard gate.
 */
export function isPlausibleCoord(latE7: number, lonE7: number): boolean {
  if (latE7 === COORD_NONE || lonE7 === COORD_NONE) return false;
  if (latE7 > 900_000_000 || latE7 < -900_000_000 || lonE7 > 1_800_000_000 || lonE7 < -1_800_000_000) {
    return false;
  }
  // (0,0) within ~1 m: "null island", sent by devices before the first fix
  return !(latE7 > -100 && latE7 < 100 && lonE7 > -100 && lonE7 < 100);
}

export interface CleanGpsCounts {
  invalid: number;
  jumps: number;
  breaks: number;
}

/** Streaming state of the hard gate, so the live path and the batch path share one rule. */
export class JumpGate {
  private lat = 0;
  private lon = 0;
  private ts = 0;
  private acc = 0;
  private has = false;
  private rejects = 0;
  /** cos of a latitude within REF_SPAN_DEG of the anchor, for the equirectangular test */
  private refLat = Number.NaN;
  private refCos = 1;

  constructor(private readonly cfg: SportConfig) {}

  reset(): void {
    this.has = false;
    this.rejects = 0;
  }

  copyFrom(o: JumpGate): void {
    this.lat = o.lat;
    this.lon = o.lon;
    this.ts = o.ts;
    this.acc = o.acc;
    this.has = o.has;
    this.rejects = o.rejects;
    this.refLat = o.refLat;
    this.refCos = o.refCos;
  }

  /** Returns 0 (accepted), FLAG_JUMP, or FLAG_BREAK (accepted, re-anchored). */
  check(lat: number, lon: number, ts: number, acc: number): number {
    if (!this.has) {
      this.accept(lat, lon, ts, acc);
      return 0;
    }
    const dt = (ts - this.ts) * 0.001;
    const allow = this.cfg.maxSpeedMps * dt + 3 * Math.sqrt(acc * acc + this.acc * this.acc);
    if (!(Math.abs(this.lat - this.refLat) <= REF_SPAN_DEG)) {
      this.refLat = this.lat;
      this.refCos = Math.cos(this.lat * DEG);
    }
    if (within(this.lat, this.lon, lat, lon, this.refCos, allow)) {
      this.accept(lat, lon, ts, acc);
      return 0;
    }
    if (++this.rejects > this.cfg.maxConsecutiveRejects) {
      this.accept(lat, lon, ts, acc);
      return FLAG_BREAK;
    }
    return FLAG_JUMP;
  }

  private accept(lat: number, lon: number, ts: number, acc: number): void {
    this.lat = lat;
    this.lon = lon;
    this.ts = ts;
    this.acc = acc;
    this.has = true;
    this.rejects = 0;
  }
}

/** the gate refreshes its reference cosine when the anchor moves this far in latitude (≈ 1.1 km) */
const REF_SPAN_DEG = 0.01;

/**
 * haversine(a, b) <= allow, decided exactly as the haversine would decide it, but
 * nearly always without it. `cosRef` is the cosine of a latitude within REF_SPAN_DEG of `lat1`.
 * Below 1 km and within ±80° latitude the equirectangular length with cosRef is within 0.2 % of the
 * great-circle length (cos of the mean latitude: 3.6e-6 measured; cosRef instead: ≤ tan 80° ×
 * 0.015° ≈ 0.15 %), so outside a ±1 % band around `allow` its verdict is the haversine's. Inside the
 * band, near the poles, farther apart or for a sub-millimetre allowance (underflow), the haversine
 * decides.
 */
export function within(
  lat1: number,
  lon1: number,
  lat2: number,
  lon2: number,
  cosRef: number,
  allow: number,
): boolean {
  if (allow > 1e-3 && lat1 < 80 && lat1 > -80 && lat2 < 80 && lat2 > -80) {
    const dy = (lat2 - lat1) * DEG * EARTH_RADIUS_M;
    const dl = lon2 - lon1;
    if (dl > -1 && dl < 1) {
      const dx = dl * DEG * EARTH_RADIUS_M * cosRef;
      const d2 = dx * dx + dy * dy;
      if (d2 < 1e6) {
        if (d2 < allow * allow * 0.98) return true;
        if (d2 > allow * allow * 1.02) return false;
      }
    }
  }
  return haversine(lat1, lon1, lat2, lon2) <= allow;
}

/** Accuracy (m, 1 sigma) of row i as the stages use it: reported, else the sport default, floored. */
export function rowAccuracy(acc: number, cfg: SportConfig): number {
  const a = !Number.isNaN(acc) ? acc : cfg.defaultAccuracyM;
  return Math.max(a, cfg.minAccuracyM);
}

/** Flags rows of `cols` into `flags` (ORs FLAG_INVALID / FLAG_JUMP / FLAG_BREAK). */
export function cleanGps(cols: SampleColumns, cfg: SportConfig, flags: Uint8Array): CleanGpsCounts {
  const n = cols.length;
  const gate = new JumpGate(cfg);
  let invalid = 0;
  let jumps = 0;
  let breaks = 0;
  // rows of the current run of rejected fixes (reanchorAcceptsRun); at most maxConsecutiveRejects
  const run: number[] = [];
  for (let i = 0; i < n; i++) {
    const la = cols.lat[i]!;
    const lo = cols.lon[i]!;
    const accRaw = cols.acc[i]!;
    if (!isPlausibleCoord(la, lo) || accRaw > cfg.maxAccuracyM) {
      flags[i]! |= FLAG_INVALID;
      invalid++;
      continue;
    }
    const r = gate.check(la * 1e-7, lo * 1e-7, cols.ts[i]!, rowAccuracy(accRaw, cfg));
    if (r === FLAG_JUMP) {
      jumps++;
      run.push(i);
      flags[i]! |= r;
      continue;
    }
    if (r === FLAG_BREAK) {
      breaks++;
      const from = cfg.reanchorAcceptsRun ? acceptChain(cols, cfg, flags, run, i) : i;
      // the re-accepted fixes are no longer jumps
      for (const j of run) if (j >= from) jumps--;
      flags[from]! |= FLAG_BREAK;
    }
    run.length = 0;
  }
  return { invalid, jumps, breaks };
}

/**
 * 2026.12-3 (reanchorAcceptsRun): the gate re-anchored on row `at` after a run of rejected fixes,
 * i.e. the run was the truth (a relocation after signal loss: the GPSBabel lake loop's fixes 237-244
 * move on at 5-11 m/s from a point 184 m off the last accepted one). Walking back from `at`, every
 * rejected fix that reaches the next one within the speed limit (with the same 3σ allowance) is
 * accepted again; the first of them carries the break. Returns the row that carries it.
 */
function acceptChain(
  cols: SampleColumns,
  cfg: SportConfig,
  flags: Uint8Array,
  run: readonly number[],
  at: number,
): number {
  let cur = at;
  for (let k = run.length - 1; k >= 0; k--) {
    const j = run[k]!;
    const dt = (cols.ts[cur]! - cols.ts[j]!) * 0.001;
    const a0 = rowAccuracy(cols.acc[j]!, cfg);
    const a1 = rowAccuracy(cols.acc[cur]!, cfg);
    const allow = cfg.maxSpeedMps * dt + 3 * Math.sqrt(a0 * a0 + a1 * a1);
    const d = haversine(
      cols.lat[j]! * 1e-7,
      cols.lon[j]! * 1e-7,
      cols.lat[cur]! * 1e-7,
      cols.lon[cur]! * 1e-7,
    );
    if (!(d <= allow)) break;
    flags[j]! &= ~FLAG_JUMP;
    cur = j;
  }
  return cur;
}
