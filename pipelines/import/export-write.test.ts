import { Decoder, Stream } from '@garmin/fitsdk';
import { describe, expect, it } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import type { Sample, SessionControl } from '../../schemas/types.js';
import { computeActivity } from '../index.js';
import type { ActivitySummary } from '../types.js';
import { exportActivityOf, type ImportedActivity, parseFit, parseTcx, writeFit, writeTcx } from './index.js';

// A 40 min run with stops, a lap every km and one explicit pause (a pause/resume control pair), computed as
// the worker computes it, exported, parsed back and computed again.
const ids = { userId: 'u', deviceId: 'd', sessionId: 's', sport: 'running' as const };
function session(seed: number, sport: 'running' | 'cycling' = 'running') {
  const { samples, truth } = generateSession({
    sport,
    seed,
    durationS: 2400,
    lapEveryM: 1000,
    hrSpikeProbability: 0,
  });
  const t0 = samples[0]!.ts;
  // the device pauses during the longest stop and records nothing while paused, as devices do
  const stop = [...truth.stops].sort((x, y) => y.durationS - x.durationS)[0]!;
  expect(stop.durationS).toBeGreaterThanOrEqual(40);
  const pauseTs = t0 + (stop.start + 2) * 1000;
  const resumeTs = t0 + (stop.start + stop.durationS - 2) * 1000;
  const controls: SessionControl[] = [
    { ...ids, sport, kind: 'pause', ts: pauseTs, receivedAt: 0 },
    { ...ids, sport, kind: 'resume', ts: resumeTs, receivedAt: 0 },
  ];
  const s: Sample[] = samples
    .filter((p) => p.ts <= pauseTs || p.ts >= resumeTs)
    .map((p, i) => ({ ...p, seq: i, acc: null }));
  const summary = compute(s, controls, sport);
  return { samples: s, controls, summary };
}
const compute = (
  samples: readonly Sample[],
  controls: readonly SessionControl[],
  sport: 'running' | 'cycling',
) => computeActivity({ ...ids, sport, samples, controls, sets: [], athlete: {} }).summary;
const controlsOf = (a: ImportedActivity, sport: 'running' | 'cycling'): SessionControl[] =>
  a.events.map((e) => ({ ...ids, sport, kind: e.kind, ts: e.ts, receivedAt: 0 }));

function expectSameFigures(
  again: ActivitySummary,
  orig: ActivitySummary,
  tol: { distM: number; elevM: number },
) {
  expect(Math.abs(again.distanceM - orig.distanceM)).toBeLessThanOrEqual(tol.distM);
  expect(again.movingS).toBeCloseTo(orig.movingS, 1);
  expect(again.elapsedS).toBeCloseTo(orig.elapsedS, 1);
  expect(Math.abs(again.elevGainM - orig.elevGainM)).toBeLessThanOrEqual(tol.elevM);
  expect(again.hr?.avg).toBeCloseTo(orig.hr!.avg, 1);
  expect(again.hr?.max).toBe(orig.hr!.max);
  expect(again.laps.length).toBe(orig.laps.length);
  again.laps.forEach((l, i) => {
    expect(l.startTs).toBe(orig.laps[i]!.startTs);
    expect(l.endTs).toBe(orig.laps[i]!.endTs);
  });
}

describe('writeTcx', () => {
  it('parseTcx reads back the samples, laps and pause: the same figures', () => {
    const { samples, controls, summary } = session(3);
    expect(summary.laps.length).toBeGreaterThan(3);
    const events = controls.map((c) => ({ kind: c.kind as 'pause' | 'resume', ts: c.ts }));
    const xml = writeTcx(exportActivityOf(summary, samples, events, 'Morning <run> & more'));
    const r = parseTcx(new TextEncoder().encode(xml));
    expect(r.activities).toHaveLength(1);
    const a = r.activities[0]!;
    expect(a.sport).toBe('running');
    expect(a.name).toBe('Morning <run> & more');
    expect(a.samples).toHaveLength(samples.length);
    a.samples.forEach((p, i) => {
      const o = samples[i]!;
      expect([p.ts, p.lat, p.lon, p.alt, p.dist, p.hr, p.speed, p.power]).toEqual([
        o.ts,
        o.lat,
        o.lon,
        o.alt,
        o.dist,
        o.hr,
        o.speed,
        o.power,
      ]);
      // RunCadence is whole strides per minute
      if (o.cadence !== null) expect(Math.abs(p.cadence! - o.cadence)).toBeLessThanOrEqual(1);
    });
    // the pause is a new <Track>, read back as pause at the last point before it and resume at the first after
    expect(a.events.map((e) => e.kind)).toEqual(['pause', 'resume']);
    // the device totals: the laps' own
    expect(a.recorded?.laps).toHaveLength(summary.laps.length);
    expect(a.recorded?.distanceM).toBeCloseTo(summary.distanceM, 6);
    expect(a.recorded?.timerS).toBeCloseTo(summary.movingS, 6);
    const again = compute(a.samples, controlsOf(a, 'running'), 'running');
    expectSameFigures(again, summary, { distM: 0.05, elevM: 0.05 });
  });

  it('cycling: rpm in <Cadence>, sport Biking', () => {
    const { samples, summary } = session(4, 'cycling');
    const xml = writeTcx(exportActivityOf(summary, samples, [], null));
    expect(xml).toContain('<Activity Sport="Biking">');
    const a = parseTcx(new TextEncoder().encode(xml)).activities[0]!;
    expect(a.sport).toBe('cycling');
    expect(a.samples.map((p) => p.cadence)).toEqual(
      samples.map((p) => (p.cadence === null ? null : Math.min(254, p.cadence))),
    );
    expect(a.samples.map((p) => p.power)).toEqual(samples.map((p) => p.power));
  });
});

describe('writeFit', () => {
  it("decodes cleanly with Garmin's Decoder: file_id, device_info, records, laps, timer events, session, activity", () => {
    const { samples, controls, summary } = session(5);
    const events = controls.map((c) => ({ kind: c.kind as 'pause' | 'resume', ts: c.ts }));
    const bytes = writeFit(exportActivityOf(summary, samples, events, 'Morning run'));
    const d = new Decoder(Stream.fromByteArray(Array.from(bytes)));
    expect(d.isFIT()).toBe(true);
    expect(d.checkIntegrity()).toBe(true);
    const { messages, errors } = d.read();
    expect(errors).toEqual([]);
    expect(messages.fileIdMesgs?.[0]).toMatchObject({ type: 'activity', manufacturer: 'development' });
    expect(messages.deviceInfoMesgs).toHaveLength(1);
    expect(messages.recordMesgs).toHaveLength(samples.length);
    expect(messages.lapMesgs).toHaveLength(summary.laps.length);
    expect(messages.sessionMesgs).toHaveLength(1);
    expect(messages.sessionMesgs?.[0]).toMatchObject({ sport: 'running', numLaps: summary.laps.length });
    expect(messages.activityMesgs).toHaveLength(1);
    const timer = (messages.eventMesgs ?? []).filter((e) => e.event === 'timer').map((e) => e.eventType);
    expect(timer).toEqual(['start', 'stopAll', 'start', 'stopAll']);
  });

  it('parseFit reads back the samples, laps and pause: the same figures', () => {
    const { samples, controls, summary } = session(6);
    const events = controls.map((c) => ({ kind: c.kind as 'pause' | 'resume', ts: c.ts }));
    const r = parseFit(writeFit(exportActivityOf(summary, samples, events, 'Morning run')));
    expect(r.activities).toHaveLength(1);
    const a = r.activities[0]!;
    expect(a.sport).toBe('running');
    expect(a.samples).toHaveLength(samples.length);
    a.samples.forEach((p, i) => {
      const o = samples[i]!;
      expect(p.ts).toBe(o.ts); // the synthetic samples are on whole seconds
      expect(p.lat!).toBeCloseTo(o.lat!, 6);
      expect(p.lon!).toBeCloseTo(o.lon!, 6);
      expect(Math.abs(p.alt! - o.alt!)).toBeLessThanOrEqual(0.1 + 1e-9);
      expect(p.hr).toBe(o.hr);
      expect(p.cadence).toBe(o.cadence);
      expect(p.power).toBe(o.power);
    });
    expect(a.recorded?.laps).toHaveLength(summary.laps.length);
    expect(a.recorded?.distanceM).toBeCloseTo(summary.distanceM, 1);
    const again = compute(a.samples, controlsOf(a, 'running'), 'running');
    // altitude in 0.2 m steps moves the gain by a few cm, positions in ~1 cm semicircles the distance by mm
    expectSameFigures(again, summary, { distM: 0.05, elevM: 0.25 });
  });

  it('a session without samples (strength) and a summary without laps still make a valid file', () => {
    const startTs = Date.parse('2026-11-30T17:00:00Z');
    const a = exportActivityOf(
      { sport: 'strength', startTs, endTs: startTs + 1_800_000, elapsedS: 1800 },
      [],
      [],
      'Gym',
    );
    const d = new Decoder(Stream.fromByteArray(Array.from(writeFit(a))));
    expect(d.checkIntegrity()).toBe(true);
    const { messages, errors } = d.read();
    expect(errors).toEqual([]);
    expect(messages.sessionMesgs?.[0]).toMatchObject({
      sport: 'training',
      subSport: 'strengthTraining',
      startTime: new Date(startTs),
      totalElapsedTime: 1800,
    });
    expect(writeTcx(a)).toContain(`<Id>${new Date(startTs).toISOString()}</Id>`);
  });
});
