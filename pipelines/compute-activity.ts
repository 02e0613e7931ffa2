import { createHash } from 'node:crypto';
import type { Sample } from '../schemas/types.js';
import { columnsFromSamples } from './columns.js';
import { ALGORITHM_VERSION, sportConfig } from './config.js';
import { bestEfforts } from './stages/best-efforts.js';
import { calories } from './stages/calories.js';
import { cleanGps, rowAccuracy } from './stages/clean-gps.js';
import { sortAndDedupe } from './stages/dedupe.js';
import {
  cumulativeDistance,
  cumulativeDistanceNet,
  deviceCumulative,
  deviceDistance,
  hasOdometer,
  rawDistance,
} from './stages/distance.js';
import { elevation } from './stages/elevation.js';
import { heartRate } from './stages/heart-rate.js';
import { laps } from './stages/laps.js';
import { manualEntry } from './stages/manual.js';
import { explicitPauses, movingTime } from './stages/moving-time.js';
import { pace } from './stages/pace.js';
import { encodePolyline, simplify } from './stages/polyline.js';
import { sensorStats } from './stages/sensors.js';
import { estimateFixSigma, type SmoothGpsResult, smoothGps } from './stages/smooth-gps.js';
import { MILE_M, splits } from './stages/splits.js';
import { setsSpan, strength } from './stages/strength.js';
import {
  type ActivityResult,
  type ActivitySummary,
  type CleanSamples,
  type ComputeInput,
  FLAG_PAUSED,
  type SampleColumns,
  type SampleFailure,
  type Track,
} from './types.js';

/**
 * The chain: runs every stage over one session and rolls the results up into the activity summary
 * (everything GET /activities/{id} returns) plus the per-sample rows for the samples table.
 *
 * Pure and deterministic: the input is sorted into canonical order and deduplicated first, so
 * any permutation, any number of duplicates, or a full replay of the same samples yields a
 * deep-equal result. The activity id is a UUIDv5 of (userId, deviceId, sessionId): the session's
 * identity (a client session id is unique per device only), owned by the user.
 */
const ACTIVITY_NS = 'b0e1f5a4-6c1d-4a7e-9a53-7f1c2d3e4f50';

/**
 * UUIDv5 (RFC 4122, SHA-1) of (user, device, client session id) in the Fitstream activity namespace.
 * Before issue 17 the name was (user, session) only, so two devices of one athlete that
 * reused a session id shared one activity; activities stored under such an id keep it (the worker
 * reads the stored id back when it re-finalises them, see services/worker/sessions.ts).
 */
export function activityIdFor(userId: string, deviceId: string, sessionId: string): string {
  const ns = Buffer.from(ACTIVITY_NS.replace(/-/g, ''), 'hex');
  const h = createHash('sha1')
    .update(ns)
    .update(`${userId}\u0000${deviceId}\u0000${sessionId}`, 'utf8')
    .digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function isColumns(s: ComputeInput['samples']): s is SampleColumns {
  return !Array.isArray(s) && typeof (s as SampleColumns).length === 'number' && 'ts' in (s as object);
}

export function computeActivity(input: ComputeInput, opts: { version?: string } = {}): ActivityResult {
  const version = opts.version ?? ALGORITHM_VERSION;
  const cfg = sportConfig(input.sport, version);
  let raw: SampleColumns;
  let failures: SampleFailure[] = [];
  if (isColumns(input.samples)) raw = input.samples;
  else ({ columns: raw, failures } = columnsFromSamples(input.samples as readonly Sample[]));
  const { columns: c, duplicates } = sortAndDedupe(raw);
  const n = c.length;
  const ts = c.ts;
  const flags = c.flags.slice(0, n);

  // GPS: clean, smooth
  // 2026.12-1: a device odometer on most rows is the distance; the track is then free to stay
  // close to the fixes (smooth-gps.ts, fixTrack)
  const odometer = cfg.followOdometer && hasOdometer(c.dist, n);
  let sm: SmoothGpsResult;
  let rejectedCount = 0;
  let smoothCfg = cfg;
  if (cfg.gps) {
    const counts = cleanGps(c, cfg, flags);
    const sigma = cfg.estimateFixSigma ? estimateFixSigma(c, cfg, flags) : Number.NaN;
    // no row reports an accuracy here, so every row is smoothed as the estimate (2026.12-2: it may
    // sit under minAccuracyM, the floor for reported accuracies; before, the estimate never did)
    const est = Number.isNaN(sigma)
      ? cfg
      : { ...cfg, defaultAccuracyM: sigma, minAccuracyM: Math.min(cfg.minAccuracyM, sigma) };
    smoothCfg = est;
    sm = smoothGps(c, est, flags, odometer);
    rejectedCount = counts.invalid + counts.jumps + sm.gated;
  } else {
    sm = {
      lat: new Float64Array(n).fill(Number.NaN),
      lon: new Float64Array(n).fill(Number.NaN),
      speed: new Float32Array(n).fill(Number.NaN),
      segment: new Int32Array(n).fill(-1),
      gated: 0,
    };
  }

  // moving time, then distance (paused intervals add none; 2026.12-3: an auto-paused stretch adds
  // its net displacement)
  const autoPaused = cfg.pauseNetDisplacement ? new Uint8Array(n) : null;
  const mt = movingTime(
    ts,
    sm.speed,
    c.speed,
    n,
    explicitPauses(input.controls),
    cfg,
    flags,
    { lat: sm.lat, lon: sm.lon, dist: c.dist },
    autoPaused,
  );
  const dist = new Float64Array(n);
  let distanceM =
    autoPaused === null
      ? cumulativeDistance(sm.lat, sm.lon, sm.segment, flags, n, dist)
      : cumulativeDistanceNet(sm.lat, sm.lon, sm.segment, flags, n, dist, {
          autoPaused,
          accuracy: (i) => rowAccuracy(c.acc[i]!, smoothCfg),
          minSigmas: cfg.pauseNetMinSigmas,
        });
  const deviceDistanceM = deviceDistance(c.dist, n);
  let hasTrack = false;
  for (let i = 0; i < n && !hasTrack; i++) hasTrack = !Number.isNaN(sm.lat[i]);
  if (odometer && hasTrack) {
    // the device's odometer, as on the no-GPS path below: rows rise from 0, the total is its maximum
    deviceCumulative(c.dist, n, dist);
    distanceM = deviceDistanceM!;
  } else if (!hasTrack && deviceDistanceM !== null) {
    // Per row: the counter's rise from the first record, so rows start at 0 as on the GPS path
    // (splits, laps and best efforts measure from row 0). The total (2026.11-3): the counter's
    // maximum, i.e. deviceDistanceM and the device's own session total — the first record already
    // counts the metres covered before it was written (edge 530 indoor ride: 4.76 m of 6873.6 m,
    // the FIT session's total_distance). Before, the rise from the first record.
    const rise = deviceCumulative(c.dist, n, dist);
    distanceM = cfg.deviceDistanceIsCounterMax ? deviceDistanceM : rise;
  }

  const moving = new Float64Array(n);
  for (let k = 1; k < n; k++) {
    moving[k] = moving[k - 1]! + (flags[k]! & FLAG_PAUSED ? 0 : (ts[k]! - ts[k - 1]!) * 0.001);
  }
  const movingS = n > 0 ? moving[n - 1]! : 0;

  const elev = elevation(ts, c.alt, sm.speed, n, cfg);
  const hr = heartRate(ts, c.hr, n, cfg, input.athlete, flags);
  const speed = sm.speed;
  if (!hasTrack) for (let i = 0; i < n; i++) speed[i] = c.speed[i]!;

  const track: Track = {
    n,
    ts,
    dist,
    moving,
    speed,
    // laps read their max HR from this, so it is the same kind as the session max
    hr: cfg.hrMaxOfCleaned ? hr.clean : hr.hr,
    alt: elev.alt,
    power: c.power,
    flags,
    elevHysteresisM: elev.hysteresisM,
  };
  const str = strength(input.sets);
  // a manual entry stands for the session only when it has nothing recorded
  const man = n === 0 && !str ? manualEntry(input.manual ?? []) : null;
  let startTs = n > 0 ? ts[0]! : 0;
  let endTs = n > 0 ? ts[n - 1]! : 0;
  let elapsedS = mt.elapsedS;
  let metTimeS = movingS;
  let gainM = elev.gainM;
  if (str) {
    const span = setsSpan(str);
    if (n === 0 || span.startTs < startTs) startTs = span.startTs;
    if (n === 0 || span.endTs > endTs) endTs = span.endTs;
    elapsedS = (endTs - startTs) * 0.001;
  }
  if (man) {
    // the athlete's figures: no pauses (moving = elapsed), the stated distance and gain
    startTs = man.startTs;
    endTs = man.startTs + Math.round(man.durationS * 1000);
    elapsedS = man.durationS;
    distanceM = man.distanceM;
    gainM = man.elevGainM ?? 0;
  }
  if (input.sport === 'strength' || !hasTrack) metTimeS = n > 0 ? movingS : elapsedS;
  const pc = pace(track, distanceM, n > 0 ? movingS : elapsedS);
  const computed = calories({
    sport: input.sport,
    cfg,
    athlete: input.athlete,
    startTs,
    ts,
    hr: hr.hr,
    flags,
    n,
    distanceM,
    gainM,
    movingS,
    metTimeS,
  });
  const kcal = man?.calories != null ? { kcal: man.calories, method: 'stated' as const } : computed;
  const poly = simplify(sm.lat, sm.lon, n, cfg.polylineToleranceM, cfg.polylineMaxPoints);
  const sensors = sensorStats(c, flags, cfg);

  const summary: ActivitySummary = {
    activityId: activityIdFor(input.userId, input.deviceId, input.sessionId),
    userId: input.userId,
    deviceId: input.deviceId,
    sessionId: input.sessionId,
    sport: input.sport,
    startTs,
    endTs,
    elapsedS,
    movingS: n > 0 ? movingS : elapsedS,
    distanceM,
    deviceDistanceM,
    rawDistanceM: cfg.gps ? rawDistance(c.lat, c.lon, n) : 0,
    avgSpeedMps: pc.avgSpeedMps,
    maxSpeedMps: pc.maxSpeedMps,
    avgPaceSPerKm: pc.avgPaceSPerKm,
    elevGainM: gainM,
    elevLossM: elev.lossM,
    minAltM: elev.minM,
    maxAltM: elev.maxM,
    hr: hr.summary,
    cadenceAvg: sensors.cadenceAvg,
    powerAvg: sensors.powerAvg,
    powerMax: sensors.powerMax,
    normalizedPower: sensors.normalizedPower,
    calories: kcal.kcal,
    caloriesMethod: kcal.method,
    laps: n > 0 ? laps(track, input.controls) : [],
    splitsKm: splits(track, 1000),
    splitsMile: splits(track, MILE_M),
    bestEfforts: bestEfforts(track, input.sport),
    polyline: encodePolyline(poly.lat, poly.lon, poly.lat.length),
    sampleCount: n,
    rejectedCount,
    duplicateCount: duplicates,
    strength: str,
    algorithmVersion: version,
  };

  const latRaw = new Float64Array(n);
  const lonRaw = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const la = c.lat[i]!;
    const lo = c.lon[i]!;
    latRaw[i] = la === -0x80000000 ? Number.NaN : la * 1e-7;
    lonRaw[i] = lo === -0x80000000 ? Number.NaN : lo * 1e-7;
  }
  const samples: CleanSamples = {
    deviceId: input.deviceId,
    sessionId: input.sessionId,
    length: n,
    ts: ts.subarray(0, n),
    seq: c.seq.subarray(0, n),
    lat: latRaw,
    lon: lonRaw,
    latSmooth: sm.lat,
    lonSmooth: sm.lon,
    alt: c.alt.subarray(0, n),
    altSmooth: elev.alt,
    speed,
    distance: dist,
    hr: c.hr.subarray(0, n),
    cadence: c.cadence.subarray(0, n),
    power: c.power.subarray(0, n),
    flags,
  };
  return { summary, samples, failures };
}
