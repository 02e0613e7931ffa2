import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeRecordEncoder } from './kafkajs-record.js';

const require = createRequire(import.meta.url);
type Args = Parameters<ReturnType<typeof makeRecordEncoder>>[0];
const original = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (a: Args) => {
  buffer: Buffer;
};
const Encoder = require('kafkajs/src/protocol/encoder.js') as { prototype: object };
const fast = makeRecordEncoder(original as never, Encoder.prototype);

const bytesArb = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.uint8Array({ maxLength: 20_000 }).map((a) => Buffer.from(a)),
);

describe('fast kafkajs Record encoder', () => {
  it('writes the bytes kafkajs writes', () => {
    fc.assert(
      fc.property(
        fc.record({
          offsetDelta: fc.oneof(fc.nat({ max: 100 }), fc.nat({ max: 2 ** 28 })),
          timestampDelta: fc.oneof(fc.constant(0), fc.nat({ max: 2 ** 28 })),
          key: bytesArb,
          value: bytesArb,
        }),
        (args) => {
          const got = fast(args);
          expect(got).toBeInstanceOf(Encoder.prototype.constructor as never);
          expect(got.buffer).toEqual(original(args).buffer);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('leaves headers and large deltas to kafkajs', () => {
    for (const args of [
      { key: 'k', value: Buffer.from('v'), headers: { h: 'x' } },
      { key: 'k', value: Buffer.from('v'), timestampDelta: 2 ** 40 },
      { key: 'k', value: Buffer.from('v'), offsetDelta: 2 ** 31 },
    ]) {
      expect(fast(args).buffer).toEqual(original(args).buffer);
    }
  });

  it('is installed (records and Produce requests) by the gateway producer module in a fresh process', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const m = await import('./services/gateway/producer-kafka.ts');
         const { createRequire } = await import('node:module');
         const req = createRequire(import.meta.url);
         const rec = req('kafkajs/src/protocol/recordBatch/record/v0/index.js');
         const produce = req('kafkajs/src/protocol/requests/produce/v3/request.js');
         console.log(JSON.stringify({
           installed: m.fastRecordEncoderInstalled(),
           fast: rec.name === 'fastRecord',
           produce: m.fastProduceRequestInstalled() && produce.name === 'fastProduceRequest',
         }));`,
      ],
      { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname },
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ installed: true, fast: true, produce: true });
  });
});
