import { beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/import-fixtures.js';
import {
  plainGain,
  REAL_RECORDINGS,
  type RealRecording,
  trackDeviation,
} from '../../test/support/real-recordings.js';
import { computeActivity } from '../index.js';
import type { ActivitySummary } from '../types.js';
import { parseActivityFile, sessionControls } from './index.js';
import type { ImportedActivity } from './types.js';

// Fitstream's numbers on real recordings (fixtures/SOURCES.md) against the totals the device
// wrote into the same file. The device is not ground truth: it computes distance from the same
// fixes (fused with its accelerometer or wheel sensor), its timer follows its own auto-pause
// settings, and its elevation comes from a barometric altimeter where it has one. The tolerances
// say how far two sound estimators may sit apart, and why:
//
// - DIST_PCT 1.0 %: the accuracy bound against truth. Both Fitstream and the device
//   smooth the same GPS track; on activities of kilometres their results should agree within it.
//   SHORT_DIST_PCT 2.0 % for the four recordings under 500 m (fenix 5 ride, run and walk, Edge 820
//   ride: 15-21 fixes 1-5 s apart), where the ends of the track weigh as much as the middle; the
//   raw haversine of the same fixes sits −0.5 to +2.3 % from the device there. Without a device
//   total, within DIST_PCT of the raw haversine (the bound for clean tracks).
// - TRACK: the smoothed track stays close to the fixes it came from (median ≤ 5 m, max ≤ 30 m,
//   rejected fixes left out), so the map shows where the athlete went.
// - DEVICE_DIST: the device's own distance counter, carried through import, must reproduce the
//   device's total to 0.1 % or 10 m (a multisport session boundary falls between two records).
// - time: elapsed within the largest gap between records + 1 s (devices with smart recording
//   write a record every 1-6 s, so the first and last record sit up to one gap inside the
//   session); moving time within the 2 % of the device timer plus that slack — a device
//   without auto-pause counts stops that Fitstream pauses.
// - HR_AVG_BPM 1.0: the device rounds to whole bpm (0.5) and Fitstream time-weights and drops
//   artefacts (another 0.5 on these files).
// - HR max: since algorithm 2026.11-3 Fitstream reports the highest accepted record
//   (pipelines/stages/heart-rate.ts), so it equals the largest imported record on these files (none
//   of their peaks is an artefact) and sits at most HR_MAX_BELOW_BPM below the device, never above.
//   The 1 bpm is the triathlon bike: its smart recording (records up to 6 s apart) did not keep the
//   device's 183 bpm second, the records reach 182. (2026.11-2 reported the max of a centred
//   5-sample mean and needed 3 bpm here: fenix 5 ride 111 vs 114.)
// - GAIN: on barometric recordings within 5 % of the device's ascent or 2 m, whichever is larger
//   (the device writes whole metres and counts with its own threshold: 2 m is one step of it);
//   on GPS-only altitude at least as close to the device's ascent as the plain 3 m hysteresis on
//   the raw altitude (bench/real-accuracy.ts also compares with gpxpy).
//
// Cases that do not meet a bound are listed in KNOWN_SHORTFALLS and run as `it.fails`, as in
// pipelines/accuracy.test.ts: the bound stays asserted, the test turns red the day they pass.
const DIST_PCT = 1.0;
const SHORT_DIST_PCT = 2.0;
const DEVICE_DIST_PCT = 0.1;
const DEVICE_DIST_M = 10;
const MOVING_PCT = 2.0;
const HR_AVG_BPM = 1.0;
const HR_MAX_BELOW_BPM = 1.0;
const GAIN_PCT = 5;
const GAIN_MIN_M = 2;
const TRACK_MEDIAN_M = 5;
const TRACK_MAX_M = 30;

/**
 * Cases that do not meet a bound under the current algorithm version, each with its figures in
 * docs/algorithms.md ("Real recordings"). They run as it.fails: the bound stays asserted and the
 * test turns red the day a case passes, so the list can only shrink.
 */
const KNOWN_SHORTFALLS = new Set<string>([
  'fenix5-run-distance',
  'fenix5-run-track',
  'fenix5-run-hr',
  'fenix5-walk-distance',
  'triathlon-bike-gain',
  'triathlon-run-track',
  'fenix6-run-track',
  'virtual-ride-track',
  'garmin-connect-gpx-distance vs raw',
  'gpsbabel-gpx10-distance vs raw',
  'fr110-run-distance',
  'fr110-run-track',
  'fr110-run-moving',
  'fr110-run-hr',
  'edge200-ride-distance',
  'edge200-ride-track',
  'edge200-ride-gain',
  'elemnt-ride-track',
  'elemnt-ride-gain',
  'edge810-ride-track',
  'edge810-ride-gain',
  'fenix2-run-track',
  'fenix2-run-gain',
  'fenix2-multi-run-distance',
  'fenix2-multi-run-track',
  'fenix2-multi-run-moving',
  'fenix2-multi-run-gain',
  'fenix2-multi-ride-distance',
  'fenix2-multi-ride-track',
  'fenix2-multi-ride-gain',
  'coros-ride-track',
  'coros-ride-moving',
  'stryd-run-track',
  'edge500-ride-track',
  'edge500-ride-gain',
  'edge500-smart-distance',
  'edge500-smart-track',
  'edge500-smart-gain',
  'zwift-ride-track',
  'gpsmap64s-hike-distance vs raw',
  'korita-hike-distance vs raw',
]);

const CASES = REAL_RECORDINGS;
type Case = RealRecording;

interface Row {
  c: Case;
  a: ImportedActivity;
  s: ActivitySummary;
  /** largest gap between consecutive records, s */
  maxGapS: number;
  rawHrMax: number | null;
  /** distance of each accepted fix from its smoothed position, m */
  trackDev: number[];
  plainGainM: number | null;
}

function run(c: Case): Row {
  const a = parseActivityFile(fixture(c.file)).activities[c.activity]!;
  const sport = c.sport ?? a.sport;
  if (!sport) throw new Error(`${c.id}: the file names no sport Fitstream knows (${a.fileSport})`);
  const controls = sessionControls(a, {
    deviceId: 'import',
    userId: 'u',
    sessionId: c.id,
    sport,
    receivedAt: 0,
  });
  const { summary, samples, failures } = computeActivity({
    userId: 'u',
    deviceId: 'import',
    sessionId: c.id,
    sport,
    samples: a.samples,
    controls,
    sets: [],
    athlete: {},
  });
  expect(failures).toEqual([]);
  let maxGapS = 0;
  for (let i = 1; i < a.samples.length; i++) {
    maxGapS = Math.max(maxGapS, (a.samples[i]!.ts - a.samples[i - 1]!.ts) / 1000);
  }
  const hrs = a.samples.map((x) => x.hr).filter((x): x is number => x !== null);
  return {
    c,
    a,
    s: summary,
    maxGapS,
    rawHrMax: hrs.length > 0 ? Math.max(...hrs) : null,
    trackDev: trackDeviation(samples).sort((x, y) => x - y),
    plainGainM: plainGain(a.samples, 3),
  };
}

const pct = (x: number, ref: number) => ((x - ref) / ref) * 100;
const f1 = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(1));
const sgn = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

function table(rows: Row[]): string {
  const out = [
    '| recording | sport | points | distance m: Fitstream / device (Δ %) | raw haversine m | elapsed s: F / device | moving s: F / device timer | gain m: F / device | HR avg: F / device | HR max: F / device |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { c, a, s } of rows) {
    const r = a.recorded;
    const dist = r?.distanceM
      ? `${f1(s.distanceM)} / ${f1(r.distanceM)} (${sgn(pct(s.distanceM, r.distanceM))})`
      : f1(s.distanceM);
    out.push(
      `| ${c.id} (${c.file}) | ${s.sport} | ${a.samples.length} | ${dist} | ${f1(s.rawDistanceM)} | ${f1(s.elapsedS)} / ${f1(r?.elapsedS)} | ${f1(s.movingS)} / ${f1(r?.timerS)} | ${f1(s.elevGainM)} / ${f1(r?.ascentM)} | ${f1(s.hr?.avg)} / ${f1(r?.avgHr)} | ${f1(s.hr?.max)} / ${f1(r?.maxHr)} |`,
    );
  }
  return out.join('\n');
}

const rows = new Map<string, Row>();

beforeAll(() => {
  for (const c of CASES) rows.set(c.id, run(c));
  console.log(`\n${table([...rows.values()])}\n`);
}, 60_000);

describe('real recordings: Fitstream vs the totals the device recorded', () => {
  for (const c of CASES) {
    const check = (metric: string, fn: (r: Row) => void) => {
      const t = KNOWN_SHORTFALLS.has(`${c.id}-${metric}`) ? it.fails : it;
      t(`${c.id} ${metric}`, () => fn(rows.get(c.id)!));
    };
    check('sanity', ({ a, s }) => {
      expect(s.sampleCount).toBe(a.samples.length);
      expect(s.movingS).toBeLessThanOrEqual(s.elapsedS + 1e-9);
      expect(s.distanceM).toBeGreaterThan(0);
    });
    check('device distance counter', ({ a, s }) => {
      const rec = a.recorded?.distanceM;
      if (rec == null) return;
      expect(s.deviceDistanceM).not.toBeNull();
      expect(Math.abs(s.deviceDistanceM! - rec)).toBeLessThanOrEqual(
        Math.max(DEVICE_DIST_M, (rec * DEVICE_DIST_PCT) / 100),
      );
    });
    check('distance', ({ a, s }) => {
      const rec = a.recorded?.distanceM;
      if (rec == null) return;
      expect(Math.abs(pct(s.distanceM, rec))).toBeLessThanOrEqual(c.short ? SHORT_DIST_PCT : DIST_PCT);
    });
    check('distance vs raw', ({ a, s }) => {
      if (a.recorded?.distanceM != null || s.rawDistanceM === 0) return;
      expect(Math.abs(pct(s.distanceM, s.rawDistanceM))).toBeLessThanOrEqual(DIST_PCT);
    });
    check('track', ({ trackDev }) => {
      if (trackDev.length === 0) return;
      expect(trackDev[trackDev.length >> 1]!).toBeLessThanOrEqual(TRACK_MEDIAN_M);
      expect(trackDev[trackDev.length - 1]!).toBeLessThanOrEqual(TRACK_MAX_M);
    });
    check('elapsed', ({ a, s, maxGapS }) => {
      const rec = a.recorded?.elapsedS;
      if (rec == null) return;
      expect(Math.abs(s.elapsedS - rec)).toBeLessThanOrEqual(maxGapS + 1);
    });
    check('moving', ({ a, s, maxGapS }) => {
      const rec = a.recorded?.timerS;
      if (rec == null) return;
      expect(Math.abs(s.movingS - rec)).toBeLessThanOrEqual((rec * MOVING_PCT) / 100 + maxGapS + 1);
    });
    check('gain', ({ a, s, plainGainM }) => {
      const rec = a.recorded?.ascentM;
      if (rec == null || s.minAltM === null) return;
      if (c.altimeter === 'barometric') {
        expect(Math.abs(s.elevGainM - rec)).toBeLessThanOrEqual(Math.max(GAIN_MIN_M, (rec * GAIN_PCT) / 100));
      } else if (c.altimeter === 'gps') {
        expect(Math.abs(s.elevGainM - rec)).toBeLessThanOrEqual(Math.abs(plainGainM! - rec));
      }
    });
    check('hr', ({ a, s, rawHrMax }) => {
      const rec = a.recorded;
      if (rec?.avgHr == null || rec.maxHr == null) return;
      // a device without a heart-rate sensor writes 0 (the Zwift ride): Fitstream reports none
      if (rec.maxHr === 0) return expect(s.hr).toBeNull();
      expect(s.hr).not.toBeNull();
      expect(Math.abs(s.hr!.avg - rec.avgHr)).toBeLessThanOrEqual(HR_AVG_BPM);
      // the imported records never exceed the device's max (import maps the right field) ...
      expect(rawHrMax!).toBeLessThanOrEqual(rec.maxHr);
      // ... and Fitstream's max is the highest record: never above the device, at most 1 bpm below
      expect(s.hr!.max).toBe(rawHrMax);
      expect(s.hr!.max).toBeLessThanOrEqual(rec.maxHr);
      expect(rec.maxHr - s.hr!.max).toBeLessThanOrEqual(HR_MAX_BELOW_BPM);
    });
  }
});
