import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/import-fixtures.js';
import { parseFit } from './index.js';

describe('parseFit', () => {
  it('maps record fields (fenix 5 ride), the session summary and the timer events', () => {
    const r = parseFit(fixture('garmin-fenix-5-bike.fit'));
    expect(r.creator).toBe('garmin fenix5');
    expect(r.activities).toHaveLength(1);
    const a = r.activities[0]!;
    expect(a).toMatchObject({ format: 'fit', sport: 'cycling', fileSport: 'cycling', name: 'Bike' });
    expect(a.samples).toHaveLength(19);
    const s0 = a.samples[0]!;
    expect(s0).toMatchObject({
      ts: Date.parse('2017-06-12T16:09:22Z'),
      seq: 0,
      dist: 0,
      alt: 0,
      hr: 77,
      lap: false,
    });
    expect(s0.lat).toBeCloseTo(37.41115965, 7);
    expect(s0.lon).toBeCloseTo(-122.06906741, 7);
    expect(s0.speed).toBeCloseTo(8.258, 3);
    expect(a.recorded).toMatchObject({
      source: 'fit_session',
      distanceM: 459.52,
      timerS: 60.363,
      elapsedS: 60.363,
      ascentM: 0,
      descentM: 4,
      avgHr: 101,
      maxHr: 114,
    });
    expect(a.events).toEqual([
      { kind: 'resume', ts: Date.parse('2017-06-12T16:09:22Z') },
      { kind: 'pause', ts: Date.parse('2017-06-12T16:10:23Z') },
    ]);
  });

  it('indoor ride without GPS: power, cadence, device distance, 15 laps, a 2 s timer pause', () => {
    const a = parseFit(fixture('hrv-activity.fit')).activities[0]!;
    expect(a.sport).toBe('cycling');
    expect(a.samples).toHaveLength(1072);
    expect(a.samples.every((s) => s.lat === null && s.lon === null)).toBe(true);
    expect(a.samples[0]).toMatchObject({ power: 19, cadence: 28, hr: 128, dist: 4.76 });
    expect(a.recorded!.laps).toHaveLength(15);
    // a lap closes at the last record of each lap but the last: 14 markers
    expect(a.samples.filter((s) => s.lap)).toHaveLength(14);
    expect(a.events.filter((e) => e.kind === 'pause').map((e) => new Date(e.ts).toISOString())).toEqual([
      '2022-02-07T17:01:53.000Z',
      '2022-02-07T17:05:44.000Z',
    ]);
  });

  it('chained multisport file: one activity per session, distance counted per session, run cadence in steps/min', () => {
    const r = parseFit(fixture('sample_mulitple_header.fit'));
    expect(r.creator).toBe('garmin fr920xt');
    expect(r.activities.map((a) => [a.fileSport, a.sport])).toEqual([
      ['swimming', null],
      ['transition', null],
      ['cycling', 'cycling'],
      ['transition', null],
      ['running', 'running'],
    ]);
    const total = r.activities.reduce((n, a) => n + a.samples.length, 0);
    expect(total).toBe(1773);
    for (const a of r.activities) {
      expect(a.samples[0]!.seq).toBe(0);
      // each session starts its distance counter near zero (not where the previous leg ended)
      expect(a.samples[0]!.dist!).toBeLessThan(20);
      const start = a.recorded!.startTs!;
      expect(a.samples[0]!.ts).toBeGreaterThanOrEqual(start);
    }
    const run = r.activities[4]!;
    const cad = run.samples.map((s) => s.cadence!).filter((c) => c > 0);
    const avg = cad.reduce((x, y) => x + y, 0) / cad.length;
    // the device's session says avg_cadence 83 (one foot) + fractional: about 167 steps/min
    expect(avg).toBeGreaterThan(150);
    expect(avg).toBeLessThan(185);
  });
});

describe('parseFit: GPS accuracy', () => {
  it('carries record gps_accuracy into Sample.acc where the device writes it (Wahoo ELEMNT)', () => {
    const a = parseFit(fixture('2019-02-17-062644-ELEMNT-297E-195-0.fit.gz')).activities[0]!;
    const withFix = a.samples.filter((s) => s.lat !== null);
    const acc = withFix.filter((s) => s.acc !== null).map((s) => s.acc!);
    expect(acc.length).toBeGreaterThan(0.99 * withFix.length);
    // metres, as the profile defines it: 1–9 m on this ride, 2 m on most records
    expect(Math.min(...acc)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...acc)).toBeLessThan(10);
    expect(acc.filter((x) => x === 2).length).toBeGreaterThan(acc.length / 2);
    // and leaves it null where the file has none
    expect(
      parseFit(fixture('garmin-fenix-5-bike.fit')).activities[0]!.samples.every((s) => s.acc === null),
    ).toBe(true);
  });
});
