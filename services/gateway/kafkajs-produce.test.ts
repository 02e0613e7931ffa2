import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kafkajsInternals, makeProduceRequest, type ProduceArgs } from './kafkajs-produce.js';

const require = createRequire(import.meta.url);
// kafkajs' own factory (this test process never installs the fast one)
const original = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (a: ProduceArgs) => {
  encode: () => Promise<{ buffer: Buffer }>;
};
const Long = require('kafkajs/src/utils/long.js') as { fromValue: (v: unknown) => unknown };
const fast = makeProduceRequest(original as never, kafkajsInternals());

const bytesArb = fc.oneof(
  fc.constant(null),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
);
const argsArb: fc.Arbitrary<ProduceArgs> = fc.record({
  acks: fc.constantFrom(-1, 0, 1),
  timeout: fc.nat({ max: 60_000 }),
  transactionalId: fc.oneof(fc.constant(null), fc.string({ maxLength: 20 })),
  producerId: fc.oneof(fc.constant(-1), fc.bigInt({ min: 0n, max: 2n ** 62n })).map((v) => Long.fromValue(v)),
  producerEpoch: fc.nat({ max: 32767 }),
  topicData: fc.array(
    fc.record({
      topic: fc.string({ minLength: 1, maxLength: 40 }),
      partitions: fc.array(
        fc.record({
          partition: fc.nat({ max: 200 }),
          firstSequence: fc.nat({ max: 2 ** 31 - 1 }),
          messages: fc.array(fc.record({ key: bytesArb, value: bytesArb }), { minLength: 1, maxLength: 300 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

describe('fast kafkajs Produce request', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes the request kafkajs writes', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_795_000_000_123);
    await fc.assert(
      fc.asyncProperty(argsArb, async (args) => {
        const mine = (await fast(args).encode()) as unknown as { buffer: Buffer };
        const theirs = await original(args).encode();
        expect(mine.buffer).toEqual(theirs.buffer);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('leaves headers, message timestamps and compression to kafkajs', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_795_000_000_123);
    const base = { acks: -1, timeout: 1000, topicData: [] as ProduceArgs['topicData'] };
    for (const args of [
      {
        ...base,
        topicData: [
          {
            topic: 't',
            partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }] }],
          },
        ],
      },
      {
        ...base,
        topicData: [
          { topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', timestamp: 5 }] }] },
        ],
      },
    ]) {
      expect(((await fast(args).encode()) as unknown as { buffer: Buffer }).buffer).toEqual(
        (await original(args).encode()).buffer,
      );
    }
  });
});
