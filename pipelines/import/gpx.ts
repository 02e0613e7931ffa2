import {
  checkSize,
  mapSport,
  num,
  PointBudget,
  parseIsoTime,
  resolveLimits,
  SampleBuilder,
  SegmentBreaks,
} from './common.js';
import { ImportError } from './errors.js';
import type { ImportLimits, ImportResult } from './types.js';
import { attr, child, children, findLeaf, streamXml, text, type XmlNode } from './xml.js';

// Extension leaf names, lower-cased. Garmin TrackPointExtension v1/v2 (hr, cad, speed), Garmin
// PowerExtension (PowerInWatts), Cluetrust gpxdata (heartrate, cadence), Strava and others (power).
const HR = new Set(['hr', 'heartrate']);
const CAD = new Set(['cad', 'cadence']);
const POWER = new Set(['power', 'powerinwatts', 'watts']);
const SPEED = new Set(['speed']);

/**
 * GPX 1.0 and 1.1 to Samples. Every <trkpt> of every <trk>/<trkseg>, in file order, becomes one
 * sample (seq 0, 1, ...); a break between two <trkseg>s is a pause (events) unless the athlete moved across it (SegmentBreaks). lat/lon, <ele> as alt, <time> as ts (UTC; a time without zone is read
 * as UTC), GPX 1.0 <speed>, and from <extensions> heart rate, cadence, power and speed.
 * Routes (<rte>) and waypoints are plans, not recordings, and are ignored. GPX carries no device
 * totals, so `recorded` is null. Pure: bytes in, records out.
 */
export function parseGpx(bytes: Uint8Array, opts: { limits?: Partial<ImportLimits> } = {}): ImportResult {
  const limits = resolveLimits(opts.limits);
  checkSize(bytes, limits);
  const budget = new PointBudget(limits.maxPoints);
  const b = new SampleBuilder(budget);
  const breaks = new SegmentBreaks();
  let points = 0;
  let routePoints = 0;
  const { node } = streamXml(bytes, {
    onRoot: (root) => {
      if (root !== 'gpx') throw new ImportError('not_gpx', `the XML root element is <${root}>, not <gpx>`);
    },
    // route and waypoint points are streamed too, only to be counted: they never pile up in memory
    records: new Set(['trkpt', 'rtept', 'wpt']),
    onRecord: (name, pt, ancestors, names) => {
      if (name === 'trkpt') {
        points++;
        const p = readPoint(pt);
        b.add(p);
        breaks.point(ancestors[names.lastIndexOf('trkseg')], p.ts, p.lat, p.lon);
      } else if (name === 'rtept') routePoints++;
    },
  });
  const tracks = children(node, 'trk');
  if (b.samples.length === 0) {
    const why =
      points > 0
        ? `${points} track points, none with a readable <time>`
        : routePoints > 0
          ? 'only a route (<rte>), which is a plan and not a recording'
          : 'no <trkpt>';
    throw new ImportError('no_track_points', `the GPX file has ${why}`);
  }
  const first = tracks[0];
  const fileSport = text(first, 'type');
  return {
    format: 'gpx',
    creator: attr(node, 'creator'),
    activities: [
      {
        format: 'gpx',
        sport: mapSport(fileSport),
        fileSport,
        name: text(first, 'name') ?? text(child(node, 'metadata'), 'name'),
        samples: b.samples,
        events: breaks.events,
        recorded: null,
        dropped: b.dropped,
      },
    ],
  };
}

function readPoint(pt: XmlNode) {
  const ext = child(pt, 'extensions');
  const time = text(pt, 'time');
  return {
    ts: time === null ? Number.NaN : parseIsoTime(time),
    lat: num(attr(pt, 'lat')),
    lon: num(attr(pt, 'lon')),
    alt: num(text(pt, 'ele')),
    speed: num(text(pt, 'speed')) ?? num(findLeaf(ext, SPEED)),
    dist: null,
    hr: num(findLeaf(ext, HR)),
    cadence: num(findLeaf(ext, CAD)),
    power: num(text(pt, 'power')) ?? num(findLeaf(ext, POWER)),
  };
}
