import { beforeAll, describe, expect, it } from 'vitest';
import { type AccuracyRow, accuracyCases, markdownTable, measure } from '../test/support/accuracy-harness.js';

// Bounds from issue 5 (gain: issue 16). They are never relaxed here. Cases that do not meet a bound today are
// listed below and run as `it.fails`: the bound is still asserted, the shortfall is visible in
// the report and in docs/algorithms.md, and the test turns red the day a case starts passing so
// the list cannot go stale.
const DIST_PCT = 1.0;
const MOVING_PCT = 2.0;
// Gain: no worse than the best peer method on the same altitude (plain 3 m hysteresis, gpxpy's
// uphill). Issue 16 retired issue 5's fixed 5 % at σ 3 m as out of reach: after smoothing, σ 3 m
// noise correlated over 10–30 s still wanders 1.3–2.3 m RMS, which no threshold separates from
// the 20–60 m of real rollers on runs and walks (docs/algorithms.md, "Elevation variants"); it
// failed on 8 of 30 sessions (−8 to −19 %).
/** a jump must not add distance: cleaned distance with jumps vs the same session without them */
const JUMP_PCT = 0.05;

const KNOWN_SHORTFALLS = new Set<string>([]);

const cases = accuracyCases();
const rows = new Map<string, AccuracyRow>();

beforeAll(() => {
  for (const c of cases) rows.set(`${c.sport}-${c.seed}`, measure(c));
  console.log(`\n${markdownTable([...rows.values()])}\n`);
}, 120_000);

describe('accuracy against synthetic ground truth (GPS σ 3–8 m, jumps, altitude σ 3 m, HR spikes)', () => {
  for (const c of cases) {
    const key = `${c.sport}-${c.seed}`;
    const check = (metric: string, fn: (r: AccuracyRow) => void) => {
      const t = KNOWN_SHORTFALLS.has(`${key}-${metric}`) ? it.fails : it;
      t(`${key} σ=${c.gpsNoiseM} ${metric}`, () => fn(rows.get(key)!));
    };
    check('distance', (r) => expect(Math.abs(r.distErrPct)).toBeLessThanOrEqual(DIST_PCT));
    check('moving', (r) => expect(Math.abs(r.movingErrPct)).toBeLessThanOrEqual(MOVING_PCT));
    check('gain vs peers', (r) =>
      expect(Math.abs(r.gainErrPct)).toBeLessThanOrEqual(
        Math.min(Math.abs(r.plainGainErrPct), Math.abs(r.gpxpyGainErrPct)),
      ),
    );
    check('jumps', (r) => expect(r.jumpEffectPct).toBeLessThanOrEqual(JUMP_PCT));
    check('beats raw', (r) => expect(Math.abs(r.distErrPct)).toBeLessThan(Math.abs(r.rawDistErrPct)));
  }
});
