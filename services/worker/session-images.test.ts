import { describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { computeActivity } from '../../pipelines/index.js';
import { SAMPLE_FIELDS } from '../../schemas/sample.js';
import type { Sample } from '../../schemas/types.js';
import { batchOf, controlOf, shuffled } from '../../test/support/worker.js';
import type { InboundRecord } from './records.js';
import { dedupeStored, grownCapacity, SessionImages } from './session-images.js';
import {
  allocStored,
  appendRawSample,
  computeColumns,
  STORED_BYTES_PER_SAMPLE,
  type StoredSamples,
} from './stored-samples.js';

const ids = { userId: 'u-1', deviceId: 'd-1', sessionId: 's-1' };
const raw = (partition = 0) => ({
  topic: 't',
  partition,
  offset: '0',
  key: null,
  value: null,
  timestamp: 0,
});
const batchRec = (samples: Sample[], partition = 0): InboundRecord => ({
  raw: raw(partition),
  decoded: { kind: 'batch', batch: batchOf(ids, samples) },
});

function stored(samples: readonly Sample[]): StoredSamples {
  const s = allocStored(samples.length);
  for (const x of samples) appendRawSample(s, s.length++, x);
  return s;
}

/**
 * What the read-back gives: ClickHouse prints each Float32 value as the shortest decimal that
 * rounds to it, which JSON.parse turns into a double near (not equal to) the float32 value.
 */
function asReadBack(s: StoredSamples): Sample[] {
  const shortest = (f: number): number | null => {
    if (Number.isNaN(f)) return null;
    for (let p = 1; p <= 9; p++) {
      const v = Number(f.toPrecision(p));
      if (Math.fround(v) === f) return v;
    }
    return f;
  };
  const out: Sample[] = [];
  for (let i = 0; i < s.length; i++) {
    out.push({
      ts: s.ts[i]!,
      seq: s.seq[i] === 0xffffffff ? null : s.seq[i]!,
      lat: Number.isNaN(s.lat[i]) ? null : s.lat[i]!,
      lon: Number.isNaN(s.lon[i]) ? null : s.lon[i]!,
      alt: shortest(s.alt[i]!),
      acc: shortest(s.acc[i]!),
      speed: shortest(s.speed[i]!),
      dist: shortest(s.dist[i]!),
      hr: s.hr[i]! < 0 ? null : s.hr[i]!,
      cadence: s.cadence[i]! < 0 ? null : s.cadence[i]!,
      power: s.power[i]! < 0 ? null : s.power[i]!,
      lap: s.lap[i] === 1,
    });
  }
  return out;
}

describe('stored samples and session images', () => {
  const { samples } = generateSession({ sport: 'running', seed: 7, durationS: 600 });
  // some awkward values: out-of-range HR, missing fields, a lap, no seq
  samples[10] = { ...samples[10]!, hr: 300, cadence: 70_000, alt: null, lap: true };
  samples[20] = { ...samples[20]!, seq: null };

  test('computing from stored columns equals computing from the read-back samples', () => {
    const s = dedupeStored(stored(shuffled(samples, 3)))!;
    const input = { ...ids, sport: 'running' as const, controls: [], sets: [], athlete: {} };
    const fromColumns = computeActivity({ ...input, samples: computeColumns(s) });
    const fromObjects = computeActivity({ ...input, samples: asReadBack(s) });
    expect(fromColumns.summary).toEqual(fromObjects.summary);
    expect(fromColumns.samples).toEqual(fromObjects.samples);
  });

  test('dedupe: identical copies collapse, ordered by (ts, identity); differing copies give undefined', () => {
    const s = dedupeStored(stored([...samples, ...samples.slice(0, 50)].reverse()))!;
    expect(s.length).toBe(samples.length);
    for (let i = 1; i < s.length; i++) expect(s.ts[i]! >= s.ts[i - 1]!).toBe(true);
    // in order without copies: the same rows as the sorting path gives
    const plain = generateSession({ sport: 'running', seed: 8, durationS: 300 }).samples;
    const inOrder = stored(plain);
    const sorted = dedupeStored(stored(shuffled([...plain, ...plain.slice(0, 9)], 5)))!;
    const direct = dedupeStored(inOrder)!;
    expect(direct).toBe(inOrder); // no copy made
    expect(direct.length).toBe(sorted.length);
    for (const col of SAMPLE_FIELDS) {
      expect([...direct[col].subarray(0, direct.length)]).toEqual([
        ...sorted[col].subarray(0, sorted.length),
      ]);
    }
    expect(dedupeStored(stored([...samples, { ...samples[5]!, hr: 99 }]))).toBeUndefined();
    expect(dedupeStored(stored([...samples, { ...samples[5]!, ts: samples[5]!.ts + 1 }]))).toBeUndefined();
  });

  test('images: opened fresh → used; not opened, other partition, sets, over budget → read back', () => {
    const k = 'd-1\u0000s-1';
    const im = new SessionImages(1 << 20);
    im.open(k, 0, 'u-1', true);
    im.append({
      raw: [],
      records: [
        { raw: raw(), decoded: { kind: 'control', control: controlOf(ids, 'start', samples[0]!.ts) } },
        batchRec(samples.slice(0, 300)),
        batchRec(samples.slice(300)),
      ],
    });
    expect(im.bytesHeld).toBeGreaterThan(0);
    const got = im.take(k)!;
    expect(got.samples.length).toBe(samples.length);
    expect(got.controls).toEqual([{ ts: samples[0]!.ts, kind: 'start', sport: 'running' }]);
    expect(im.bytesHeld).toBe(0);

    // never opened (e.g. first seen after a restart): read back
    im.append({ raw: [], records: [batchRec(samples)] });
    expect(im.take(k)).toBeUndefined();
    // another partition
    im.open(k, 0, 'u-1', true);
    im.append({ raw: [], records: [batchRec(samples.slice(0, 10)), batchRec(samples.slice(10), 1)] });
    expect(im.take(k)).toBeUndefined();
    // strength sets
    im.open(k, 0, 'u-1', true);
    const withSets = batchRec(samples);
    if (withSets.decoded.kind === 'batch') {
      withSets.decoded.batch.sets = [{ exercise: 'squat', reps: 5, weightKg: 80, startTs: 1, endTs: 2 }];
    }
    im.append({ raw: [], records: [withSets] });
    expect(im.take(k)).toBeUndefined();
    // over budget: evicted to read-back
    const small = new SessionImages(1000);
    small.open(k, 0, 'u-1', true);
    small.append({ raw: [], records: [batchRec(samples)] });
    expect(small.stats.evicted).toBe(1);
    expect(small.bytesHeld).toBe(0);
    expect(small.take(k)).toBeUndefined();
  });

  test('capacity grows by a quarter: a session holds at most a quarter more rows than it has', () => {
    let cap = 0;
    const bad: number[] = [];
    for (let n = 1; n <= 100_000; n++) {
      if (n > cap) cap = grownCapacity(cap, n);
      if (cap < n || (n > 128 && cap > Math.ceil(n * 1.25))) bad.push(n);
    }
    expect(bad).toEqual([]);
    const k = 'd-1\u0000s-1';
    const im = new SessionImages(1 << 24);
    im.open(k, 0, 'u-1', true);
    for (let i = 0; i < 600; i += 5) im.append({ raw: [], records: [batchRec(samples.slice(i, i + 5))] });
    expect(im.bytesHeld).toBeLessThanOrEqual(Math.ceil(600 * 1.25) * STORED_BYTES_PER_SAMPLE);
    expect(im.take(k)!.samples.length).toBe(600);
  });
});
