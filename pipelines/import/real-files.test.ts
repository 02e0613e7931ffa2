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
//   session); moving time within the 2 % of the device timer plus the largest gap while
//   the device's timer ran + 1 s (a gap inside one of the device's own pauses is no slack).
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
 * Cases that do not meet a bound under the current algorithm version (2026.12-3), each explained
 * with its figures (docs/algorithms.md, "Real recordings"). They run as it.fails: the bound stays
 * asserted and the test turns red the day a case passes, so the list can only shrink.
 */
const KNOWN_SHORTFALLS = new Set<string>([
  // The device's timer ran through stops that every method pauses: FR 110 timer = elapsed
  // (2 625 s; Fitstream 2 098, plain 2 089, gpxpy 2 221); fenix 2 run timer = elapsed (6 764 s;
  // Fitstream 6 613, gpxpy 6 725); COROS: 932 s of 1 Hz records at device speed < 1 m/s without a
  // fix inside its timer (Fitstream −9.2 %, plain −9.6 %, gpxpy −3.5 %). A device without
  // auto-pause counts standing; Fitstream's moving time does not. The Wahoo ELEMNT auto-pauses
  // itself (113 timer events), but later than Fitstream: 590 s of its 1 Hz records inside the
  // timer are under the cycling pause speed of 1 m/s (Fitstream −4.8 %, plain −6.2 %, gpxpy +12.2 %).
  // vívoactive HR walk (added 2026-12-02): its laps' timer (4 495 s) equals the whole recording, stops
  // included; 100 gaps over 10 s (1 503 s) in its smart recording; Fitstream 4 117 s, plain 4 045 s.
  'fr110-run-moving',
  'vivoactive-walk-moving',
  'elemnt-ride-moving',
  'fenix2-multi-run-moving',
  'coros-ride-moving',
  // Barometric gain: the devices count with rules the records do not reproduce. On the same kind
  // of 0.2 m-resolution 1 Hz profile the Wahoo ELEMNT reports less than a 3 m hysteresis on its raw
  // records (185 m vs 200 m; 2 m gives 230 m) and the Edge 500 more than a 1 m one (541 m vs 503 m),
  // so no method on the records meets 5 % on both. 2026.12-1: ELEMNT +46 %, fenix 2 run and ride
  // −13.7 / −7.8 %, COROS +6.1 %, Edge 500 smart recording −10.4 % (2026.11-3: +29, −28, −24,
  // +3.1, −32 %).
  'elemnt-ride-gain',
  'fenix2-multi-run-gain',
  'fenix2-multi-ride-gain',
  'coros-ride-gain',
  'edge500-smart-gain',
  // FR 645 Music run (added 2026-12-02): the device's ascent 234 m; on its records (0.2 m steps, ~2 s
  // smart recording) a 1 m hysteresis gives 213 m, 3 m 207 m, gpxpy's uphill 216 m; Fitstream 214 m.
  'fr645m-run-gain',
  // GPX logs without totals, under 2026.12-3 (docs/algorithms.md "2026.12-3"): what is left against the
  // raw haversine is what the raw counts and no method should. GPSBabel lake loop −2.29 %: 184 m (1.35 %)
  // is one move of 92 m/s (fix 236 -> 237, 2 s; the rows after it chain on from 237, so 237 is kept and
  // the jump itself is the segment break), 128 m (0.94 %) the back-and-forth inside its auto-paused
  // stretches (495 m of path, 367 m net, which now counts); over the moving intervals 12 985 m of the
  // raw 12 986 m. GPSMAP 64s hike −3.81 %: its auto-paused stretches (0.05–0.17 m/s in its ~10 s log)
  // hold 1 264 m of path for 672 m of net displacement, so 592 m (3.3 % of the raw) is standing
  // jitter; over the moving intervals 16 824 m of the raw 16 925 m (−0.6 %).
  'gpsbabel-gpx10-distance vs raw',
  'gpsmap64s-hike-distance vs raw',
  // Heart rate is not issue 16's: the device's average over 21 records 1–5 s apart (fenix 5 run:
  // 90 vs 85.0 bpm) and the FR 110's smart recording (147 vs 148.1 bpm) weight time differently.
  'fenix5-run-hr',
  'fr110-run-hr',
]);

const CASES = REAL_RECORDINGS;
type Case = RealRecording;

interface Row {
  c: Case;
  a: ImportedActivity;
  s: ActivitySummary;
  /** largest gap between consecutive records, s */
  maxGapS: number;
  /** largest gap between consecutive records while the device's timer ran, s */
  maxTimerGapS: number;
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
  let maxTimerGapS = 0;
  const stops = a.events.filter((e) => e.kind !== 'lap');
  let ev = 0;
  let paused = false;
  for (let i = 1; i < a.samples.length; i++) {
    const t = a.samples[i]!.ts;
    // the timer state just before this record: the device's own pause/resume events
    while (ev < stops.length && stops[ev]!.ts < t) paused = stops[ev++]!.kind === 'pause';
    const gap = (t - a.samples[i - 1]!.ts) / 1000;
    maxGapS = Math.max(maxGapS, gap);
    if (!paused) maxTimerGapS = Math.max(maxTimerGapS, gap);
  }
  const hrs = a.samples.map((x) => x.hr).filter((x): x is number => x !== null);
  return {
    c,
    a,
    s: summary,
    maxGapS,
    maxTimerGapS,
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
    check('moving', ({ a, s, maxTimerGapS }) => {
      const rec = a.recorded?.timerS;
      if (rec == null) return;
      expect(Math.abs(s.movingS - rec)).toBeLessThanOrEqual((rec * MOVING_PCT) / 100 + maxTimerGapS + 1);
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
