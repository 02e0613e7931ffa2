import {
  type ActivityMesg,
  type DeviceInfoMesg,
  Encoder,
  type EventMesg,
  type FileIdMesg,
  type LapMesg,
  type Mesg,
  Profile,
  type RecordMesg,
  type SessionMesg,
  type Types,
} from '@garmin/fitsdk';
import type { Sample, Sport } from '../../schemas/types.js';
import { type ExportActivity, type ExportLap, FOOT_SPORTS, pauses } from './export-activity.js';

// the message numbers this writer uses (the SDK types MesgNum as a record of optional numbers)
const MESG = Object.fromEntries(
  (['FILE_ID', 'DEVICE_INFO', 'EVENT', 'RECORD', 'LAP', 'SESSION', 'ACTIVITY'] as const).map((k) => {
    const n = Profile.MesgNum[k];
    if (n === undefined) throw new Error(`@garmin/fitsdk has no message ${k}`);
    return [k, n];
  }),
) as Record<'FILE_ID' | 'DEVICE_INFO' | 'EVENT' | 'RECORD' | 'LAP' | 'SESSION' | 'ACTIVITY', number>;
const SEMICIRCLES_PER_DEGREE = 2 ** 31 / 180;
const U8_MAX = 254; // 255 is FIT's "invalid"
const U16_MAX = 65_534;

const FIT_SPORT: Readonly<Record<Sport, { sport: Types.Sport; subSport: Types.SubSport }>> = {
  running: { sport: 'running', subSport: 'generic' },
  cycling: { sport: 'cycling', subSport: 'generic' },
  walking: { sport: 'walking', subSport: 'generic' },
  hiking: { sport: 'hiking', subSport: 'generic' },
  strength: { sport: 'training', subSport: 'strengthTraining' },
};

/**
 * An activity as a FIT activity file, encoded by Garmin's FIT SDK (@garmin/fitsdk Encoder) in the order
 * Garmin's encode-activity recipe uses: file_id, device_info, a timer start event, the records with a lap
 * message at the end of each lap and timer stop_all / start events around each pause, a final timer
 * stop_all, then session and activity. Laps, session and activity carry Fitstream's computed totals.
 *
 * What FIT cannot hold changes on the way: times are whole seconds (the record timestamp has no
 * milliseconds: a sample's time is cut to its second), positions are semicircles (~1 cm), altitude 0.2 m
 * steps (enhanced_altitude, scale 5), distance 1 cm, speed 1 mm/s (enhanced_speed), accuracy whole metres
 * (gps_accuracy). Cadence of foot sports
 * is written per foot as FIT counts it (cadence + fractional_cadence: half of Fitstream's steps/min, exact).
 * Values outside a field's range are left out of that record.
 */
export function writeFit(a: ExportActivity, opts: { createdAt?: number } = {}): Uint8Array {
  const enc = new Encoder();
  const put = <T extends Mesg>(mesgNum: number, mesg: T) => enc.onMesg(mesgNum, mesg);
  const M = MESG;
  const first = a.samples[0]?.ts ?? a.laps[0]?.startTs ?? a.totals.startTs;
  const last = a.samples.at(-1)?.ts ?? a.laps.at(-1)?.endTs ?? a.totals.endTs;
  const foot = FOOT_SPORTS.has(a.sport);
  const { sport, subSport } = FIT_SPORT[a.sport] ?? { sport: 'generic', subSport: 'generic' };
  const created = opts.createdAt ?? last;

  put<FileIdMesg>(M.FILE_ID, {
    type: 'activity',
    manufacturer: 'development',
    product: 0,
    timeCreated: time(created),
    productName: 'Fitstream',
  });
  put<DeviceInfoMesg>(M.DEVICE_INFO, {
    timestamp: time(first),
    deviceIndex: 'creator',
    manufacturer: 'development',
    product: 0,
    productName: 'Fitstream',
  });
  put<EventMesg>(M.EVENT, { timestamp: time(first), event: 'timer', eventType: 'start', eventGroup: 0 });

  const laps: ExportLap[] =
    a.laps.length > 0
      ? [...a.laps]
      : [
          {
            startTs: first,
            endTs: last,
            elapsedS: a.totals.elapsedS,
            movingS: a.totals.movingS,
            distanceM: a.totals.distanceM,
            avgHr: a.totals.avgHr,
            maxHr: a.totals.maxHr,
            calories: a.totals.calories,
          },
        ];
  // timer stop_all at each pause, start at its resume: before the first record after a pause, and before
  // the record at or after a resume
  const timer: { ts: number; type: 'stopAll' | 'start' }[] = [];
  for (const [p, r] of pauses(a.events)) {
    if (p <= first || p >= last) continue;
    timer.push({ ts: p, type: 'stopAll' });
    if (r < last) timer.push({ ts: r, type: 'start' });
  }
  let g = 0;
  let k = 0;
  const writeLap = (lap: ExportLap, index: number) =>
    put<LapMesg>(M.LAP, {
      messageIndex: index,
      timestamp: time(lap.endTs),
      startTime: time(lap.startTs),
      totalElapsedTime: lap.elapsedS,
      totalTimerTime: lap.movingS,
      totalDistance: lap.distanceM,
      totalCalories: clamp(lap.calories, U16_MAX),
      avgHeartRate: lap.avgHr === null ? undefined : clamp(lap.avgHr, U8_MAX),
      maxHeartRate: lap.maxHr === null ? undefined : clamp(lap.maxHr, U8_MAX),
      event: 'lap',
      eventType: 'stop',
      lapTrigger: index === laps.length - 1 ? 'sessionEnd' : 'manual',
      sport,
      subSport,
    });
  for (const s of a.samples) {
    // a lap that ended before this sample, and timer events before it: written in time order
    while (k < laps.length - 1 && s.ts > laps[k]!.endTs) writeLap(laps[k]!, k++);
    while (g < timer.length && (timer[g]!.type === 'stopAll' ? timer[g]!.ts < s.ts : timer[g]!.ts <= s.ts)) {
      const e = timer[g++]!;
      put<EventMesg>(M.EVENT, { timestamp: time(e.ts), event: 'timer', eventType: e.type, eventGroup: 0 });
    }
    put<RecordMesg>(M.RECORD, record(s, foot));
  }
  while (k < laps.length) writeLap(laps[k]!, k++);
  put<EventMesg>(M.EVENT, { timestamp: time(last), event: 'timer', eventType: 'stopAll', eventGroup: 0 });
  const t = a.totals;
  put<SessionMesg>(M.SESSION, {
    messageIndex: 0,
    timestamp: time(last),
    startTime: time(first),
    totalElapsedTime: t.elapsedS,
    totalTimerTime: t.movingS,
    totalDistance: t.distanceM,
    totalAscent: clamp(t.elevGainM, U16_MAX),
    totalDescent: clamp(t.elevLossM, U16_MAX),
    totalCalories: clamp(t.calories, U16_MAX),
    avgHeartRate: t.avgHr === null ? undefined : clamp(t.avgHr, U8_MAX),
    maxHeartRate: t.maxHr === null ? undefined : clamp(t.maxHr, U8_MAX),
    sport,
    subSport,
    sportProfileName: a.name ?? undefined,
    firstLapIndex: 0,
    numLaps: laps.length,
    event: 'session',
    eventType: 'stop',
    trigger: 'activityEnd',
  });
  put<ActivityMesg>(M.ACTIVITY, {
    timestamp: time(last),
    totalTimerTime: t.movingS,
    numSessions: 1,
    type: 'manual',
    event: 'activity',
    eventType: 'stop',
  });
  return enc.close();
}

function record(s: Sample, foot: boolean): RecordMesg {
  const r: RecordMesg = { timestamp: time(s.ts) };
  if (s.lat !== null && s.lon !== null) {
    r.positionLat = Math.round(s.lat * SEMICIRCLES_PER_DEGREE);
    r.positionLong = Math.round(s.lon * SEMICIRCLES_PER_DEGREE);
  }
  if (s.alt !== null && s.alt >= -500 && s.alt < 850_000) r.enhancedAltitude = s.alt;
  if (s.acc !== null && s.acc > 0 && s.acc < 255) r.gpsAccuracy = Math.round(s.acc);
  if (s.dist !== null && s.dist < 42_000_000) r.distance = s.dist;
  if (s.speed !== null && s.speed < 4_000_000) r.enhancedSpeed = s.speed;
  if (s.hr !== null && s.hr > 0 && s.hr <= U8_MAX) r.heartRate = s.hr;
  if (s.cadence !== null) {
    const c = foot ? s.cadence / 2 : s.cadence;
    if (c <= U8_MAX) {
      r.cadence = Math.floor(c);
      if (c !== Math.floor(c)) r.fractionalCadence = c - Math.floor(c);
    }
  }
  if (s.power !== null && s.power <= U16_MAX) r.power = s.power;
  return r;
}

/** FIT times are whole seconds: a time is cut to its second, as a device's clock counts. */
function time(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function clamp(v: number, max: number): number {
  return Math.min(max, Math.max(0, Math.round(v)));
}
