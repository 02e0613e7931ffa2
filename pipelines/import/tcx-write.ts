import type { Sample } from '../../schemas/types.js';
import { type ExportActivity, FOOT_SPORTS, pauses, samplesByLap } from './export-activity.js';

const NS = {
  tcx: 'http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2',
  ax: 'http://www.garmin.com/xmlschemas/ActivityExtension/v2',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
};
const SCHEMA_LOCATION = `${NS.tcx} http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd`;

/**
 * An activity as Garmin Training Center XML (TCX v2), for export: one <Activity>, one <Lap> per lap with
 * Fitstream's lap totals (TotalTimeSeconds is the lap's moving time, as a device's timer counts it), and a
 * new <Track> inside a lap after each pause (what parseTcx reads back as a pause). Trackpoints carry the
 * samples as recorded: position, altitude, the device distance, heart rate, and in ActivityExtension v2
 * (TPX) speed, power and, for foot sports, RunCadence (strides/min: half of Fitstream's steps/min, rounded,
 * since the schema wants an integer); other sports write rpm in <Cadence>. Elements follow the XSD's order.
 * Numbers are written in JavaScript's shortest round-trip form, so parseTcx reads back the same doubles.
 */
export function writeTcx(a: ExportActivity): string {
  const foot = FOOT_SPORTS.has(a.sport);
  const sport = a.sport === 'running' ? 'Running' : a.sport === 'cycling' ? 'Biking' : 'Other';
  const first = a.laps[0]?.startTs ?? a.samples[0]?.ts ?? a.totals.startTs;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<TrainingCenterDatabase xmlns="${NS.tcx}" xmlns:ns3="${NS.ax}" xmlns:xsi="${NS.xsi}" xsi:schemaLocation="${SCHEMA_LOCATION}">`,
    '<Activities>',
    `<Activity Sport="${sport}">`,
    `<Id>${iso(first)}</Id>`,
  ];
  const gaps = pauses(a.events);
  const groups = samplesByLap(a);
  const laps =
    a.laps.length > 0
      ? a.laps
      : [
          {
            startTs: first,
            endTs: a.samples.at(-1)?.ts ?? a.totals.endTs,
            elapsedS: a.totals.elapsedS,
            movingS: a.totals.movingS,
            distanceM: a.totals.distanceM,
            avgHr: a.totals.avgHr,
            maxHr: a.totals.maxHr,
            calories: a.totals.calories,
          },
        ];
  laps.forEach((lap, k) => {
    out.push(`<Lap StartTime="${iso(lap.startTs)}">`);
    out.push(`<TotalTimeSeconds>${lap.movingS}</TotalTimeSeconds>`);
    out.push(`<DistanceMeters>${lap.distanceM}</DistanceMeters>`);
    out.push(`<Calories>${Math.min(65_535, Math.max(0, Math.round(lap.calories)))}</Calories>`);
    if (lap.avgHr !== null) out.push(bpm('AverageHeartRateBpm', lap.avgHr));
    if (lap.maxHr !== null) out.push(bpm('MaximumHeartRateBpm', lap.maxHr));
    out.push('<Intensity>Active</Intensity>');
    out.push('<TriggerMethod>Manual</TriggerMethod>');
    const pts = groups[k] ?? [];
    if (pts.length > 0) {
      out.push('<Track>');
      let prev: Sample | undefined;
      for (const s of pts) {
        if (prev && gaps.some(([p]) => p >= prev!.ts && p < s.ts)) out.push('</Track>', '<Track>');
        out.push(trackpoint(s, foot));
        prev = s;
      }
      out.push('</Track>');
    }
    out.push('</Lap>');
  });
  if (a.name !== null) out.push(`<Notes>${esc(a.name)}</Notes>`);
  out.push('</Activity>', '</Activities>', '</TrainingCenterDatabase>', '');
  return out.join('\n');
}

function trackpoint(s: Sample, foot: boolean): string {
  let p = `<Trackpoint><Time>${iso(s.ts)}</Time>`;
  if (s.lat !== null && s.lon !== null)
    p += `<Position><LatitudeDegrees>${s.lat}</LatitudeDegrees><LongitudeDegrees>${s.lon}</LongitudeDegrees></Position>`;
  if (s.alt !== null) p += `<AltitudeMeters>${s.alt}</AltitudeMeters>`;
  if (s.dist !== null) p += `<DistanceMeters>${s.dist}</DistanceMeters>`;
  if (s.hr !== null && s.hr > 0) p += `<HeartRateBpm><Value>${s.hr}</Value></HeartRateBpm>`;
  if (s.cadence !== null && !foot) p += `<Cadence>${Math.min(254, s.cadence)}</Cadence>`;
  const tpx: string[] = [];
  if (s.speed !== null) tpx.push(`<ns3:Speed>${s.speed}</ns3:Speed>`);
  if (s.cadence !== null && foot)
    tpx.push(`<ns3:RunCadence>${Math.min(254, Math.round(s.cadence / 2))}</ns3:RunCadence>`);
  if (s.power !== null) tpx.push(`<ns3:Watts>${s.power}</ns3:Watts>`);
  if (tpx.length > 0) p += `<Extensions><ns3:TPX>${tpx.join('')}</ns3:TPX></Extensions>`;
  return `${p}</Trackpoint>`;
}

function bpm(tag: string, v: number): string {
  return `<${tag}><Value>${Math.min(255, Math.max(1, Math.round(v)))}</Value></${tag}>`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
