import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Batcher, type OutRecord, recordBytes } from './batcher.js';
import { ShuttingDownError } from './errors.js';

const rec = (i: number, size = 10): OutRecord => ({
  topic: 't',
  key: `k${i % 7}`,
  value: Buffer.alloc(size, i),
});
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('Batcher', () => {
  test('every record is acknowledged once, in order, in batches no bigger than maxBytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 400, max: 2000 }),
        async (sizes, maxBytes) => {
          const sent: OutRecord[][] = [];
          const b = new Batcher({
            send: async (rs) => {
              sent.push([...rs]);
              await tick();
            },
            windowMs: 1,
            maxBytes,
            highBytes: 1e9,
            lowBytes: 1e8,
          });
          const records = sizes.map((s, i) => rec(i, s));
          const acked: number[] = [];
          await Promise.all(records.map((r, i) => b.add(r).then(() => acked.push(i))));
          expect(acked).toEqual(records.map((_, i) => i));
          expect(sent.flat()).toEqual(records);
          for (const batch of sent) {
            const bytes = batch.reduce((n, r) => n + recordBytes(r), 0);
            expect(batch.length === 1 || bytes <= maxBytes).toBe(true);
          }
          expect(b.backlogBytes).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a failed send is retried and nothing is acknowledged before it succeeds', async () => {
    let failures = 3;
    const attempts: number[] = [];
    const b = new Batcher({
      send: async () => {
        if (failures-- > 0) throw new Error('broker down');
      },
      windowMs: 1,
      maxBytes: 10_000,
      highBytes: 1e6,
      lowBytes: 1e5,
      retryInitialMs: 5,
      observer: { retrying: (_e, attempt) => attempts.push(attempt) },
    });
    let acked = false;
    const p = b.add(rec(1)).then(() => {
      acked = true;
    });
    await tick(8);
    expect(acked).toBe(false);
    await p;
    expect(attempts).toEqual([1, 2, 3]);
  });

  test('admission blocks above the high mark and reopens below the low mark', async () => {
    let release: () => void = () => {};
    const events: boolean[] = [];
    const b = new Batcher({
      send: () => new Promise<void>((r) => (release = r)),
      windowMs: 1,
      maxBytes: 1000,
      highBytes: 2000,
      lowBytes: 1000,
      observer: { backpressure: (on) => events.push(on) },
    });
    expect(b.admission()).toBeNull();
    const acks: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) acks.push(b.add(rec(i, 100)));
    expect(b.isBackpressured).toBe(true);
    const gate = b.admission();
    expect(gate).not.toBeNull();
    let admitted = false;
    void gate?.then(() => {
      admitted = true;
    });
    await tick(5);
    expect(admitted).toBe(false);
    // drain batch by batch
    while (!admitted) {
      release();
      await tick(3);
    }
    expect(b.backlogBytes).toBeLessThan(1000);
    expect(events).toEqual([true, false]);
    for (let i = 0; i < 5 && b.backlogBytes > 0; i++) {
      release();
      await tick(3);
    }
    await Promise.all(acks);
  });

  test('close flushes everything, then refuses', async () => {
    const sent: OutRecord[] = [];
    const b = new Batcher({
      send: async (rs) => {
        sent.push(...rs);
      },
      windowMs: 1000,
      maxBytes: 10_000,
      highBytes: 1e6,
      lowBytes: 1e5,
    });
    const p = Promise.all([b.add(rec(1)), b.add(rec(2))]);
    await b.close();
    await p;
    expect(sent).toHaveLength(2);
    await expect(b.admission()).rejects.toBeInstanceOf(ShuttingDownError);
    await expect(b.add(rec(3))).rejects.toBeInstanceOf(ShuttingDownError);
  });
});
