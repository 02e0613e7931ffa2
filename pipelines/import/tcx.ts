import {
  checkSize,
  mapSport,
  markLapEnds,
  num,
  PointBudget,
  parseIsoTime,
  resolveLimits,
  SampleBuilder,
  SegmentBreaks,
} from './common.js';
import { ImportError } from './errors.js';
import type { ImportedActivity, ImportLimits, ImportResult, RecordedLap, RecordedSummary } from './types.js';
import { attr, child, children, streamXml, text, type XmlNode } from './xml.js';

/** Sports where TCX RunCadence / FIT cadence count one foot: Fitstream stores steps per minute. */
const FOOT_CADENCE = new Set(['running', 'walking', 'hiking']);

/**
 * Garmin Training Center (TCX v2) to Samples: one activity per <Activity>, its <Trackpoint>s in
 * file order (seq 0, 1, ...): Position, AltitudeMeters, DistanceMeters (the device's cumulative
 * distance), HeartRateBpm, Cadence (rpm; one foot for foot sports, so doubled), and from the
 * ActivityExtension TPX: Speed, Watts, RunCadence (strides per minute; doubled to steps per minute). A lap ends at the last point of
 * each <Lap> but the final one. The device totals are the sum over laps (TotalTimeSeconds,
 * DistanceMeters, Calories) with HR averaged over laps weighted by lap time and the maximum of the
 * lap maxima. Courses (planned routes) are ignored. Pure: bytes in, records out.
 */
export function parseTcx(bytes: Uint8Array, opts: { limits?: Partial<ImportLimits> } = {}): ImportResult {
  const limits = resolveLimits(opts.limits);
  checkSize(bytes, limits);
  const budget = new PointBudget(limits.maxPoints);
  // Trackpoints stream past; each one goes to the builder of its enclosing <Activity>, and the time
  // of the last one seen in each <Lap> is kept to mark the lap's end.
  const builders = new Map<XmlNode, SampleBuilder>();
  const lapLast = new Map<XmlNode, number>();
  const breaks = new Map<XmlNode, { breaks: SegmentBreaks; lap: XmlNode }>();
  let points = 0;
  const { node } = streamXml(bytes, {
    onRoot: (root) => {
      if (root !== 'TrainingCenterDatabase') {
        throw new ImportError('not_tcx', `the XML root element is <${root}>, not <TrainingCenterDatabase>`);
      }
    },
    records: new Set(['Trackpoint']),
    onRecord: (_name, tp, ancestors, names) => {
      // TrainingCenterDatabase > Activities > Activity > Lap > Track > Trackpoint; trackpoints of
      // Courses (planned routes) have no Activity and are ignored
      if (names[1] !== 'Activities' || names[2] !== 'Activity' || names[3] !== 'Lap') return;
      const act = ancestors[2]!;
      const lap = ancestors[3]!;
      points++;
      let b = builders.get(act);
      if (!b) {
        b = new SampleBuilder(budget);
        builders.set(act, b);
      }
      const p = readPoint(tp, mapSport(attr(act, 'Sport')));
      b.add(p);
      if (Number.isFinite(p.ts)) lapLast.set(lap, p.ts);
      // a new <Track> within one <Lap> is a break (the timer stopped); a new lap's first track is not
      let br = breaks.get(act);
      if (!br) {
        br = { breaks: new SegmentBreaks(), lap };
        breaks.set(act, br);
      }
      br.breaks.point(ancestors[4], p.ts, p.lat, p.lon, br.lap !== lap);
      br.lap = lap;
    },
  });
  const activities: ImportedActivity[] = [];
  let creator: string | null = null;
  for (const act of children(child(node, 'Activities'), 'Activity')) {
    creator ??= text(child(act, 'Creator'), 'Name');
    const b = builders.get(act);
    if (!b || b.samples.length === 0) continue;
    const fileSport = attr(act, 'Sport');
    const lapNodes = children(act, 'Lap');
    markLapEnds(
      b.samples,
      lapNodes.map((l) => lapLast.get(l)).filter((t): t is number => t !== undefined),
    );
    activities.push({
      format: 'tcx',
      sport: mapSport(fileSport),
      fileSport,
      name: text(act, 'Notes'),
      samples: b.samples,
      events: breaks.get(act)?.breaks.events ?? [],
      recorded: summarise(lapNodes.map(readLap)),
      dropped: b.dropped,
    });
  }
  if (activities.length === 0) {
    const why =
      points > 0 ? `${points} trackpoints, none with a readable <Time>` : 'no <Activity> with trackpoints';
    throw new ImportError('no_track_points', `the TCX file has ${why}`);
  }
  return { format: 'tcx', creator, activities };
}

function readPoint(tp: XmlNode, sport: string | null) {
  const pos = child(tp, 'Position');
  const tpx = child(child(tp, 'Extensions'), 'TPX');
  const time = text(tp, 'Time');
  const runCad = num(text(tpx, 'RunCadence'));
  const footScale = sport !== null && FOOT_CADENCE.has(sport) ? 2 : 1;
  return {
    ts: time === null ? Number.NaN : parseIsoTime(time),
    lat: num(text(pos, 'LatitudeDegrees')),
    lon: num(text(pos, 'LongitudeDegrees')),
    alt: num(text(tp, 'AltitudeMeters')),
    speed: num(text(tpx, 'Speed')),
    dist: num(text(tp, 'DistanceMeters')),
    hr: num(text(child(tp, 'HeartRateBpm'), 'Value')),
    cadence: runCad !== null ? runCad * 2 : scale(num(text(tp, 'Cadence')), footScale),
    power: num(text(tpx, 'Watts')),
  };
}

function scale(v: number | null, k: number): number | null {
  return v === null ? null : v * k;
}

function readLap(lap: XmlNode): RecordedLap {
  const start = attr(lap, 'StartTime');
  return {
    startTs: start === null ? Number.NaN : parseIsoTime(start),
    distanceM: num(text(lap, 'DistanceMeters')),
    timerS: num(text(lap, 'TotalTimeSeconds')),
    elapsedS: null,
    avgHr: num(text(child(lap, 'AverageHeartRateBpm'), 'Value')),
    maxHr: num(text(child(lap, 'MaximumHeartRateBpm'), 'Value')),
    calories: num(text(lap, 'Calories')),
  };
}

function summarise(laps: RecordedLap[]): RecordedSummary | null {
  if (laps.length === 0) return null;
  const sum = (f: (l: RecordedLap) => number | null): number | null => {
    let s = 0;
    let any = false;
    for (const l of laps) {
      const v = f(l);
      if (v !== null) {
        s += v;
        any = true;
      }
    }
    return any ? s : null;
  };
  let hrW = 0;
  let hrS = 0;
  let maxHr: number | null = null;
  for (const l of laps) {
    if (l.avgHr !== null && l.timerS !== null && l.timerS > 0) {
      hrS += l.avgHr * l.timerS;
      hrW += l.timerS;
    }
    if (l.maxHr !== null && (maxHr === null || l.maxHr > maxHr)) maxHr = l.maxHr;
  }
  const startTs = laps[0]!.startTs;
  return {
    source: 'tcx_laps',
    startTs: Number.isFinite(startTs) ? startTs : null,
    distanceM: sum((l) => l.distanceM),
    timerS: sum((l) => l.timerS),
    elapsedS: null,
    ascentM: null,
    descentM: null,
    avgHr: hrW > 0 ? hrS / hrW : null,
    maxHr,
    calories: sum((l) => l.calories),
    laps,
  };
}
