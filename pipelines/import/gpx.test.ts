import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schemas/types.js';
import { fixture } from '../../test/support/import-fixtures.js';
import { detectFormat, parseActivityFile, parseGpx, writeGpx } from './index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('parseGpx', () => {
  it('GPX 1.1 with Garmin TrackPointExtension v1 (Garmin Connect export)', () => {
    const r = parseGpx(fixture('garmin-activity.gpx.gz'));
    expect(r.creator).toBe('Garmin Connect');
    const a = r.activities[0]!;
    expect(a.sport).toBe('running');
    expect(a.name).toBe('casual stroll');
    expect(a.samples).toHaveLength(988);
    expect(a.recorded).toBeNull();
    // first <trkpt> of the file, field by field
    expect(a.samples[0]).toMatchObject({ seq: 0, hr: 74, cadence: 79, lap: false, acc: null, dist: null });
    expect(a.samples.map((s) => s.seq)).toEqual(a.samples.map((_, i) => i));
    expect(a.samples.every((s) => s.lat !== null && s.alt !== null && s.hr !== null)).toBe(true);
  });

  it('GPX 1.0 from GPSBabel: times, elevation, no sensors', () => {
    const a = parseGpx(fixture('cerknicko-jezero.gpx')).activities[0]!;
    expect(a.samples).toHaveLength(296);
    expect(a.samples[0]!.ts).toBe(Date.parse('2010-08-05T14:23:59Z'));
    expect(a.sport).toBeNull();
    expect(a.samples.every((s) => s.hr === null && s.power === null)).toBe(true);
  });

  it('extensions from several writers: TPX v2 speed, PowerExtension, bare <power>, gpxdata', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
 xmlns:gpxpx="http://www.garmin.com/xmlschemas/PowerExtension/v1" xmlns:gpxdata="http://www.cluetrust.com/XML/GPXDATA/1/0">
<trk><type>cycling</type><trkseg>
<trkpt lat="45.1" lon="7.2"><ele>300.5</ele><time>2024-05-01T10:00:00Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>120</gpxtpx:hr><gpxtpx:cad>85</gpxtpx:cad><gpxtpx:speed>8.25</gpxtpx:speed></gpxtpx:TrackPointExtension><gpxpx:PowerExtension><gpxpx:PowerInWatts>210</gpxpx:PowerInWatts></gpxpx:PowerExtension></extensions></trkpt>
<trkpt lat="45.1001" lon="7.2001"><time>2024-05-01T10:00:01.500Z</time><extensions><power>230</power><gpxdata:hr>121</gpxdata:hr><gpxdata:cadence>86</gpxdata:cadence></extensions></trkpt>
</trkseg></trk></gpx>`;
    const a = parseGpx(utf8(xml)).activities[0]!;
    expect(a.sport).toBe('cycling');
    expect(a.samples).toEqual([
      {
        ts: Date.parse('2024-05-01T10:00:00Z'),
        seq: 0,
        lat: 45.1,
        lon: 7.2,
        alt: 300.5,
        acc: null,
        speed: 8.25,
        dist: null,
        hr: 120,
        cadence: 85,
        power: 210,
        lap: false,
      },
      {
        ts: Date.parse('2024-05-01T10:00:01.500Z'),
        seq: 1,
        lat: 45.1001,
        lon: 7.2001,
        alt: null,
        acc: null,
        speed: null,
        dist: null,
        hr: 121,
        cadence: 86,
        power: 230,
        lap: false,
      },
    ]);
  });

  it('times: zone offsets, no zone read as UTC; points without time are counted and left out', () => {
    const xml = `<gpx version="1.0" xmlns="http://www.topografix.com/GPX/1/0"><trk><trkseg>
<trkpt lat="1" lon="1"><time>2024-05-01T12:00:00+02:00</time><speed>3.5</speed></trkpt>
<trkpt lat="1" lon="1"><time>2024-05-01T10:00:01</time></trkpt>
<trkpt lat="1" lon="1"></trkpt>
<trkpt lat="1" lon="1"><time>yesterday</time></trkpt>
<trkpt lat="95" lon="1"><time>2024-05-01T10:00:02Z</time><extensions><hr>300</hr></extensions></trkpt>
</trkseg></trk></gpx>`;
    const a = parseGpx(utf8(xml)).activities[0]!;
    expect(a.samples.map((s) => s.ts - Date.parse('2024-05-01T10:00:00Z'))).toEqual([0, 1000, 2000]);
    expect(a.samples[0]!.speed).toBe(3.5);
    expect(a.samples[2]).toMatchObject({ lat: null, lon: null, hr: null, seq: 2 });
    expect(a.dropped).toEqual({ noTime: 2, badCoordinate: 1, badValue: 1 });
  });

  it('several tracks and segments are one activity in file order; routes and waypoints are ignored', () => {
    const pt = (s: number) => `<trkpt lat="1" lon="${s}"><time>2024-05-01T10:00:0${s}Z</time></trkpt>`;
    const xml = `<gpx version="1.1"><wpt lat="5" lon="5"/><rte><rtept lat="6" lon="6"/></rte>
<trk><trkseg>${pt(0)}${pt(1)}</trkseg><trkseg>${pt(2)}</trkseg></trk><trk><trkseg>${pt(3)}</trkseg></trk></gpx>`;
    const r = parseActivityFile(utf8(xml));
    expect(r.activities).toHaveLength(1);
    expect(r.activities[0]!.samples.map((s) => s.lon)).toEqual([0, 1, 2, 3]);
  });

  it('a segment break the athlete stood across is a pause; one they moved across is signal loss, not a pause', () => {
    // 0.001° of longitude at the equator ≈ 111 m
    const pt = (lon: number, s: number) =>
      `<trkpt lat="0" lon="${lon}"><time>2024-05-01T10:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}Z</time></trkpt>`;
    const gpx = (second: string) =>
      utf8(
        `<gpx version="1.1"><trk><trkseg>${pt(0, 0)}${pt(0.00001, 1)}</trkseg><trkseg>${second}</trkseg></trk></gpx>`,
      );
    // 300 s later, 1 m away: stood (0.003 m/s) → pause at the last point, resume at the next
    const stood = parseGpx(gpx(`${pt(0.00002, 301)}${pt(0.00003, 302)}`)).activities[0]!;
    expect(stood.events).toEqual([
      { kind: 'pause', ts: Date.parse('2024-05-01T10:00:01Z') },
      { kind: 'resume', ts: Date.parse('2024-05-01T10:05:01Z') },
    ]);
    // 300 s later, ~555 m away (1.85 m/s): the logger lost the signal while the athlete ran on
    const moved = parseGpx(gpx(`${pt(0.005, 301)}${pt(0.00501, 302)}`)).activities[0]!;
    expect(moved.events).toEqual([]);
  });

  it('detects the format from content: UTF-8 BOM, comments and DOCTYPE before a prefixed root', () => {
    const xml =
      '\uFEFF<?xml version="1.0"?>\n<!-- exported -->\n<!DOCTYPE gpx>\n<g:gpx xmlns:g="http://www.topografix.com/GPX/1/1"/>';
    expect(detectFormat(utf8(xml))).toBe('gpx');
    expect(detectFormat(fixture('20210119_run_garmin_fenix6.tcx.gz'))).toBe('tcx');
    expect(detectFormat(fixture('hrv-activity.fit'))).toBe('fit');
  });

  it('UTF-16 and ISO-8859-1 files', () => {
    const xml =
      '<?xml version="1.0" encoding="ISO-8859-1"?><gpx><trk><name>Côte</name><trkseg><trkpt lat="1" lon="2"><time>2024-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>';
    const latin1 = Uint8Array.from(xml, (c) => c.charCodeAt(0));
    expect(parseGpx(latin1).activities[0]!.name).toBe('Côte');
    const utf16 = new Uint8Array(2 + xml.length * 2);
    utf16.set([0xff, 0xfe]);
    for (let i = 0; i < xml.length; i++) utf16[2 + 2 * i] = xml.charCodeAt(i);
    expect(parseGpx(utf16).activities[0]!.samples).toHaveLength(1);
  });
});

// Samples GPX can carry: a fix on every point, no accuracy, no device distance, no lap marker.
// -0 is written as "0" (the same point), so the generator produces +0 only.
const noNegZero = (x: number) => (Object.is(x, -0) ? 0 : x);
const gpxSample = fc.record({
  dt: fc.integer({ min: 0, max: 600_000 }),
  lat: fc.double({ min: -90, max: 90, noNaN: true }).map(noNegZero),
  lon: fc.double({ min: -180, max: 180, noNaN: true }).map(noNegZero),
  alt: fc.option(fc.double({ min: -500, max: 9000, noNaN: true }).map(noNegZero)),
  speed: fc.option(fc.double({ min: 0, max: 100, noNaN: true }).map(noNegZero)),
  hr: fc.option(fc.integer({ min: 0, max: 255 })),
  cadence: fc.option(fc.integer({ min: 0, max: 0xfffe })),
  power: fc.option(fc.integer({ min: 0, max: 0xfffe })),
});

/** Text XML 1.0 can hold (no control characters, no non-characters) and that trimming leaves alone. */
function xmlText(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0xfffe || c === 0xffff || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return s.trim() === s;
}

describe('writeGpx → parseGpx round trip (fast-check)', () => {
  it('parses back to the same samples', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('1990-01-01'), max: Date.parse('2090-01-01') }),
        fc.array(gpxSample, { minLength: 1, maxLength: 60 }),
        fc.string({ unit: 'grapheme', maxLength: 20 }).filter(xmlText),
        (t0, pts, name) => {
          let ts = t0;
          const samples: Sample[] = pts.map((p, i) => {
            ts += p.dt;
            return {
              ts,
              seq: i,
              lat: p.lat,
              lon: p.lon,
              alt: p.alt,
              acc: null,
              speed: p.speed,
              dist: null,
              hr: p.hr,
              cadence: p.cadence,
              power: p.power,
              lap: false,
            };
          });
          const xml = writeGpx(samples, name === '' ? {} : { name });
          const r = parseGpx(utf8(xml));
          expect(r.activities[0]!.samples).toEqual(samples);
          expect(r.activities[0]!.name).toBe(name === '' ? null : name);
        },
      ),
      { numRuns: 300 },
    );
  });
});
