import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/import-fixtures.js';
import { parseTcx } from './index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('parseTcx', () => {
  it('fenix 6 run: trackpoint fields, RunCadence as steps/min, lap totals', () => {
    const r = parseTcx(fixture('20210119_run_garmin_fenix6.tcx.gz'));
    expect(r.creator).toBe('fenix 6 Sapphire');
    const a = r.activities[0]!;
    expect(a).toMatchObject({ format: 'tcx', sport: 'running', fileSport: 'Running' });
    expect(a.samples).toHaveLength(1232);
    expect(a.samples[0]).toEqual({
      ts: Date.parse('2021-01-19T23:30:50Z'),
      seq: 0,
      lat: 28.07848697528243,
      lon: -80.60405535623431,
      alt: 8.800000190734863,
      acc: null,
      speed: 0,
      dist: 0,
      hr: 55,
      cadence: 0,
      power: null,
      lap: false,
    });
    expect(a.recorded).toMatchObject({
      source: 'tcx_laps',
      distanceM: 5124.84,
      timerS: 1230.479,
      avgHr: 157,
      maxHr: 189,
      calories: 268,
      elapsedS: null,
      ascentM: null,
    });
  });

  it('virtual ride: Cadence (rpm, not doubled) and Watts', () => {
    const a = parseTcx(fixture('20210308_virtual_ride_with_power.tcx.gz')).activities[0]!;
    expect(a.sport).toBe('cycling');
    expect(a.samples[0]).toMatchObject({ hr: 149, cadence: 87, power: 216, speed: 9.899999618530273 });
  });

  it('several laps: markers at lap ends, HR averaged over laps weighted by lap time', () => {
    const tp = (s: number, hr: number) =>
      `<Trackpoint><Time>2024-01-01T00:00:${String(s).padStart(2, '0')}Z</Time><HeartRateBpm><Value>${hr}</Value></HeartRateBpm></Trackpoint>`;
    const lap = (start: number, secs: number, avg: number, max: number, pts: string) =>
      `<Lap StartTime="2024-01-01T00:00:${String(start).padStart(2, '0')}Z"><TotalTimeSeconds>${secs}</TotalTimeSeconds><DistanceMeters>100</DistanceMeters><AverageHeartRateBpm><Value>${avg}</Value></AverageHeartRateBpm><MaximumHeartRateBpm><Value>${max}</Value></MaximumHeartRateBpm><Track>${pts}</Track></Lap>`;
    const xml = `<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities><Activity Sport="Biking"><Id>2024-01-01T00:00:00Z</Id>${lap(0, 10, 100, 110, tp(0, 100) + tp(9, 110))}${lap(10, 30, 140, 150, tp(10, 130) + tp(39, 150))}</Activity></Activities></TrainingCenterDatabase>`;
    const a = parseTcx(utf8(xml)).activities[0]!;
    expect(a.samples.map((s) => s.lap)).toEqual([false, true, false, false]);
    expect(a.recorded).toMatchObject({ distanceM: 200, timerS: 40, avgHr: 130, maxHr: 150 });
    expect(a.recorded!.laps.map((l) => l.startTs)).toEqual([
      Date.parse('2024-01-01T00:00:00Z'),
      Date.parse('2024-01-01T00:00:10Z'),
    ]);
  });
});
