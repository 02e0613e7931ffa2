import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSession } from '../bench/synth/index.js';
import type { Sample, SessionControl } from '../schemas/types.js';
import { computeActivity } from './compute-activity.js';
import { SESSION_DEFAULTS } from './config.js';
import { SessionAccumulator } from './session-accumulator.js';
import { SeqSet } from './stages/dedupe.js';
import { decodePolyline, encodePolyline } from './stages/polyline.js';
import type { ActivitySummary } from './types.js';

const { samples: SAMPLES } = generateSession({
  sport: 'running',
  seed: 7,
  durationS: 900,
  jumpProbability: 0.01,
  lapEveryM: 1000,
});
const CONTROLS: SessionControl[] = [
  {
    deviceId: 'd',
    userId: 'u',
    sessionId: 's',
    kind: 'pause',
    sport: 'running',
    ts: SAMPLES[300]!.ts + 500,
    receivedAt: 0,
  },
  {
    deviceId: 'd',
    userId: 'u',
    sessionId: 's',
    kind: 'resume',
    sport: 'running',
    ts: SAMPLES[340]!.ts + 500,
    receivedAt: 0,
  },
];
const ID = { userId: 'u', deviceId: 'd', sessionId: 's', sport: 'running' as const };

function summaryOf(samples: readonly Sample[]): ActivitySummary {
  return computeActivity({ ...ID, samples, controls: CONTROLS, sets: [], athlete: { maxHr: 190 } }).summary;
}
/** Summary minus the fields that count the input rather than describe the activity. */
function stable(s: ActivitySummary): Omit<ActivitySummary, 'duplicateCount'> {
  const { duplicateCount: _, ...rest } = s;
  return rest;
}

const BASE = stable(summaryOf(SAMPLES));

/** A permutation where no sample moves later than `maxDelayMs` of device time behind its slot. */
function boundedShuffle(xs: readonly Sample[], keys: readonly number[], maxDelayMs: number): Sample[] {
  return xs
    .map((s, i) => ({ s, k: s.ts + (keys[i % keys.length]! % (maxDelayMs + 1)) }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.s);
}

const shuffleArb = fc.array(fc.nat(), { minLength: 1, maxLength: 64 });
const dupArb = fc.array(fc.nat({ max: SAMPLES.length - 1 }), { maxLength: 200 });
const cutsArb = fc.array(fc.nat({ max: SAMPLES.length }), { maxLength: 40 });

/** Copies of samples at arbitrary positions (a copy may arrive long before or after its original). */
function withDuplicates(xs: readonly Sample[], dups: readonly number[]): Sample[] {
  const out = xs.slice();
  for (const d of dups) out.splice((d * 7919) % (out.length + 1), 0, { ...SAMPLES[d]! });
  return out;
}

/** Copies re-sent right after their original (a device retrying within the window). */
function withRetries(xs: readonly Sample[], dups: readonly number[]): Sample[] {
  const again = new Map<number, number>();
  for (const d of dups) again.set(d, (again.get(d) ?? 0) + 1);
  const out: Sample[] = [];
  for (const s of xs) {
    out.push(s);
    for (let k = again.get(s.seq!) ?? 0; k > 0; k--) out.push({ ...s });
  }
  return out;
}

function batches<T>(xs: readonly T[], cuts: readonly number[]): T[][] {
  const cs = [...new Set(cuts.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let prev = 0;
  for (const c of [...cs, xs.length]) {
    out.push(xs.slice(prev, c));
    prev = c;
  }
  return out;
}

describe('computeActivity is order- and duplicate-insensitive', () => {
  it('any permutation and any duplicates give the identical summary', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: SAMPLES.length, maxLength: SAMPLES.length }),
        dupArb,
        (keys, dups) => {
          const perm = SAMPLES.map((s, i) => ({ s, k: keys[i]! }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.s);
          expect(stable(summaryOf(withDuplicates(perm, dups)))).toEqual(BASE);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a full replay is a no-op', () => {
    const twice = summaryOf([...SAMPLES, ...SAMPLES]);
    expect(stable(twice)).toEqual(BASE);
    expect(twice.duplicateCount).toBe(SAMPLES.length);
  });
});

describe('SessionAccumulator', () => {
  function feed(parts: readonly Sample[][]): { acc: SessionAccumulator; late: number; dups: number } {
    const acc = new SessionAccumulator(ID);
    for (const c of CONTROLS) acc.control(c);
    let late = 0;
    let dups = 0;
    for (const p of parts) {
      const r = acc.add(p);
      late += r.late;
      dups += r.duplicates;
      expect(r.failures).toEqual([]);
      acc.live();
    }
    return { acc, late, dups };
  }

  it('permutations within the window, retries and arbitrary batches: identical summary, nothing late', () => {
    fc.assert(
      fc.property(shuffleArb, dupArb, cutsArb, (keys, dups, cuts) => {
        const perm = boundedShuffle(SAMPLES, keys, SESSION_DEFAULTS.reorderWindowMs - 1000);
        const { acc, late } = feed(batches(withRetries(perm, dups), cuts));
        expect(late).toBe(0);
        expect(acc.length).toBe(SAMPLES.length);
        expect(stable(acc.compute({ maxHr: 190 }).summary)).toEqual(BASE);
      }),
      { numRuns: 25 },
    );
  });

  it('any order, duplicates anywhere and arbitrary batches give the identical summary', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 2000 }),
        dupArb,
        cutsArb,
        (keys, dups, cuts) => {
          const perm = SAMPLES.map((s, i) => ({ s, k: keys[i % keys.length]! ^ i }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.s);
          const { acc } = feed(batches(withDuplicates(perm, dups), cuts));
          expect(acc.length).toBe(SAMPLES.length);
          expect(stable(acc.compute({ maxHr: 190 }).summary)).toEqual(BASE);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('a full replay adds nothing', () => {
    const { acc } = feed([SAMPLES]);
    const r = acc.add(SAMPLES);
    expect(r).toEqual({ accepted: 0, duplicates: SAMPLES.length, late: 0, failures: [] });
    expect(stable(acc.compute({ maxHr: 190 }).summary)).toEqual(BASE);
  });

  it('late samples beyond the window are merged, flagged and trigger a recompute', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: SAMPLES.length - 50 }), { minLength: 1, maxLength: 30 }),
        (held) => {
          const heldSet = new Set(held);
          const first = SAMPLES.filter((_, i) => !heldSet.has(i));
          const later = SAMPLES.filter((_, i) => heldSet.has(i));
          const acc = new SessionAccumulator(ID);
          for (const c of CONTROLS) acc.control(c);
          acc.add(first);
          acc.compute({});
          const r = acc.add(later);
          expect(r.accepted).toBe(later.length);
          expect(r.late).toBeGreaterThan(0);
          expect(acc.needsRecompute).toBe(true);
          expect(stable(acc.compute({ maxHr: 190 }).summary)).toEqual(BASE);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('invalid samples become failures with stable codes; the rest is kept', () => {
    const acc = new SessionAccumulator(ID);
    const bad = [
      { ...SAMPLES[0]!, ts: Number.NaN },
      SAMPLES[1]!,
      { ...SAMPLES[2]!, seq: -3 },
      null as unknown as Sample,
    ];
    const r = acc.add(bad);
    expect(r.accepted).toBe(1);
    expect(r.failures.map((f) => [f.index, f.error.code])).toEqual([
      [0, 'ts_invalid'],
      [2, 'seq_invalid'],
      [3, 'sample_malformed'],
    ]);
  });

  it('holds at most 64 bytes per sample', () => {
    const { acc } = feed(batches(SAMPLES, [1, 10, 100, 500]));
    expect(acc.bytesHeld() / acc.length).toBeLessThanOrEqual(64);
  });

  it('live() is the fold of the held rows, however and whenever they arrived', () => {
    // checkpoints, refolds after reorders, late samples, replaced copies and controls: the live
    // state always equals that of a fresh accumulator given the same samples in one batch
    fc.assert(
      fc.property(shuffleArb, dupArb, cutsArb, fc.nat({ max: 3 }), (keys, dups, cuts, windows) => {
        const perm = boundedShuffle(SAMPLES, keys, (1 + windows) * SESSION_DEFAULTS.reorderWindowMs);
        const parts = batches(withDuplicates(perm, dups), cuts);
        const acc = new SessionAccumulator(ID);
        const seen: Sample[] = [];
        parts.forEach((p, k) => {
          acc.add(p);
          seen.push(...p);
          if (k === parts.length >> 1) for (const c of CONTROLS) acc.control(c);
          const fresh = new SessionAccumulator(ID);
          if (k >= parts.length >> 1) for (const c of CONTROLS) fresh.control(c);
          fresh.add([...seen].sort((a, b) => a.ts - b.ts));
          expect(acc.live()).toEqual(fresh.live());
        });
      }),
      { numRuns: 20 },
    );
  });

  it('live() tracks distance and time close to the final numbers', () => {
    const { acc } = feed(batches(SAMPLES, [100, 200, 300, 400, 500, 600, 700, 800]));
    const live = acc.live();
    const s = acc.compute({}).summary;
    expect(live.sampleCount).toBe(SAMPLES.length);
    expect(live.elapsedS).toBe(s.elapsedS);
    expect(Math.abs(live.distanceM / s.distanceM - 1)).toBeLessThan(0.05);
    expect(Math.abs(live.movingS / s.movingS - 1)).toBeLessThan(0.05);
  });
});

describe("SessionAccumulator with liveOnly (the worker's live state)", () => {
  const LIVE_ID = { ...ID, liveOnly: true };

  it("live() equals a full accumulator's after every batch, for any order within the window", () => {
    fc.assert(
      fc.property(shuffleArb, dupArb, cutsArb, (keys, dups, cuts) => {
        const perm = boundedShuffle(SAMPLES, keys, SESSION_DEFAULTS.reorderWindowMs - 1000);
        const full = new SessionAccumulator(ID);
        const live = new SessionAccumulator(LIVE_ID);
        for (const c of CONTROLS) {
          full.control(c);
          live.control(c);
        }
        for (const p of batches(withRetries(perm, dups), cuts)) {
          full.add(p);
          live.add(p);
          expect(live.live()).toEqual(full.live());
        }
      }),
      { numRuns: 25 },
    );
  });

  it('controls that arrive before their time refold to the same numbers, reorders after them too', () => {
    const full = new SessionAccumulator(ID);
    const live = new SessionAccumulator(LIVE_ID);
    // reordered within the window, so refolds from checkpoints happen after the controls as well
    const perm = boundedShuffle(
      SAMPLES,
      [0, 7000, 3000, 9000, 1000],
      SESSION_DEFAULTS.reorderWindowMs - 1000,
    );
    const parts = batches(perm, [20, 60, 100, 150, 200, 250, 290, 330, 400, 600, 800]);
    parts.forEach((p, k) => {
      if (k === 5) {
        // samples up to index 249 held: the pause (after sample 300) is still ahead
        for (const c of CONTROLS) {
          full.control(c);
          live.control(c);
        }
      }
      full.add(p);
      live.add(p);
      expect(live.live()).toEqual(full.live());
    });
  });

  it('a pause reaching back into the held rows, then a reordered sample: same numbers', () => {
    const full = new SessionAccumulator(ID);
    const live = new SessionAccumulator(LIVE_ID);
    const both = (f: (a: SessionAccumulator) => void) => {
      f(full);
      f(live);
    };
    for (let i = 0; i < 390; i += 10) {
      both((a) => a.add(SAMPLES.slice(i, i + 10)));
      expect(live.live()).toEqual(full.live());
    }
    // sample 398 is held back
    both((a) => a.add([...SAMPLES.slice(390, 398), SAMPLES[399]!]));
    expect(live.live()).toEqual(full.live());
    // pause from 5 s before the newest sample (rows still held) to 30 s later
    const newest = SAMPLES[399]!.ts;
    both((a) => a.control({ ...CONTROLS[0]!, ts: newest - 5000 }));
    both((a) => a.control({ ...CONTROLS[1]!, ts: newest + 30_000 }));
    expect(live.live()).toEqual(full.live());
    // 398 lands behind folded rows: the fold resumes from the oldest kept checkpoint
    both((a) => a.add([SAMPLES[398]!]));
    expect(live.live()).toEqual(full.live());
    for (let i = 400; i < 500; i += 10) {
      both((a) => a.add(SAMPLES.slice(i, i + 10)));
      expect(live.live()).toEqual(full.live());
    }
  });

  it('for any order within the window and pauses reaching back less than the window: same numbers', () => {
    fc.assert(
      fc.property(
        shuffleArb,
        cutsArb,
        fc.nat({ max: 40 }),
        fc.nat({ max: 8000 }),
        fc.nat({ max: 60_000 }),
        (keys, cuts, at, back, length) => {
          const perm = boundedShuffle(SAMPLES, keys, SESSION_DEFAULTS.reorderWindowMs - 1000);
          const parts = batches(perm, cuts);
          const full = new SessionAccumulator(ID);
          const live = new SessionAccumulator(LIVE_ID);
          let newest = Number.NEGATIVE_INFINITY;
          parts.forEach((p, k) => {
            if (k === at % parts.length && newest > 0) {
              // a pause from up to 8 s before the newest sample seen: the rows it covers are held
              const pause = { ...CONTROLS[0]!, ts: newest - back };
              const resume = { ...CONTROLS[1]!, ts: newest - back + 1000 + length };
              for (const a of [full, live]) {
                a.control(pause);
                a.control(resume);
              }
            }
            full.add(p);
            live.add(p);
            for (const x of p) newest = Math.max(newest, x.ts);
            expect(live.live()).toEqual(full.live());
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('holds about one reorder window of rows, not the session', () => {
    const full = new SessionAccumulator(ID);
    const live = new SessionAccumulator(LIVE_ID);
    for (let i = 0; i < SAMPLES.length; i += 10) {
      full.add(SAMPLES.slice(i, i + 10));
      live.add(SAMPLES.slice(i, i + 10));
      full.live();
      live.live();
    }
    // 900 samples: the full one holds all of them; live-only ~ the window (10 s) and a batch
    expect(full.length).toBe(SAMPLES.length);
    expect(live.length).toBeLessThanOrEqual(40);
    expect(live.live().sampleCount).toBe(SAMPLES.length);
    expect(live.bytesHeld()).toBeLessThan(full.bytesHeld() / 3);
  });

  it('ignores samples behind the dropped rows (counted late) and refuses compute()', () => {
    const live = new SessionAccumulator(LIVE_ID);
    for (let i = 0; i < 300; i += 10) {
      live.add(SAMPLES.slice(i, i + 10));
      live.live();
    }
    const before = live.live();
    const r = live.add([{ ...SAMPLES[5]!, seq: 100_000 }]);
    expect(r).toMatchObject({ accepted: 0, late: 1, duplicates: 0 });
    expect(live.live()).toEqual(before);
    expect(() => live.compute({})).toThrow(/liveOnly/);
    expect(() => live.columns()).toThrow(/liveOnly/);
  });
});

describe('building blocks', () => {
  it('SeqSet agrees with a Set', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 1 << 20 }), { maxLength: 300 }),
        fc.array(fc.nat({ max: 1 << 20 })),
        (add, probe) => {
          const a = new SeqSet();
          const b = new Set<number>();
          for (const x of add) {
            a.add(x);
            b.add(x);
          }
          for (const x of [...add, ...probe]) expect(a.has(x)).toBe(b.has(x));
        },
      ),
    );
  });

  it('polyline encode/decode round-trips at 1e-5 degrees', () => {
    const coord = fc.tuple(
      fc.double({ min: -90, max: 90, noNaN: true }),
      fc.double({ min: -180, max: 180, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(coord, { maxLength: 50 }), (pts) => {
        const lat = Float64Array.from(pts.map((p) => p[0]));
        const lon = Float64Array.from(pts.map((p) => p[1]));
        const back = decodePolyline(encodePolyline(lat, lon, pts.length));
        expect(back.length).toBe(pts.length);
        back.forEach(([la, lo], i) => {
          expect(Math.abs(la - pts[i]![0])).toBeLessThanOrEqual(0.5e-5 + 1e-9);
          expect(Math.abs(lo - pts[i]![1])).toBeLessThanOrEqual(0.5e-5 + 1e-9);
        });
      }),
    );
  });
});
