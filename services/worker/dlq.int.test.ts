import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeAvro } from '../../schemas/avro.js';
import { ConfluentDecoder } from '../../schemas/wire.js';
import { sample as sampleAt } from '../../test/support/samples.js';
import { batchOf, type Isolated, isolate, produce, rid, rows, waitFor } from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { type RunningWorker, startWorkerRuntime } from './app.js';
import { computeActivity } from './compute.js';

// Bad records go to the DLQ with a reason and never stop the partition.
describe('dead letters', () => {
  let iso: Isolated;
  let w: RunningWorker;

  beforeAll(async () => {
    iso = await isolate({ partitions: 1 });
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'error'));
  });
  afterAll(async () => {
    await w?.close();
    await iso?.cleanup();
  });

  test('undecodable and invalid records are dead-lettered; the records after them are processed', async () => {
    const ids = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
    const sample = (i: number) => sampleAt(i, { lat: 46.5, lon: 6.6, hr: 120 });
    // a valid Avro TelemetryBatch with an empty sessionId, framed with the registry's real id
    const good = await iso.codec.encode('TelemetryBatch', batchOf(ids, [sample(0)]));
    const invalid = Buffer.concat([
      good.subarray(0, 5),
      encodeAvro('TelemetryBatch', batchOf({ ...ids, sessionId: '' }, [sample(1)])),
    ]);
    await iso.producer.send({
      topic: iso.topic,
      messages: [
        { key: ids.sessionId, value: Buffer.from('{"not":"avro"}') },
        { key: ids.sessionId, value: invalid },
      ],
    });
    await produce(iso, [{ name: 'TelemetryBatch', value: batchOf(ids, [sample(2), sample(3)]) }]);

    await waitFor(async () => {
      const [r] = await rows<{ n: number }>(iso.ch, `SELECT count() AS n FROM ${iso.database}.samples_v`);
      return Number(r!.n) === 2;
    });
    const decoder = new ConfluentDecoder(new SchemaRegistry({ host: iso.config.SCHEMA_REGISTRY_URL }));
    const consumer = iso.kafka.consumer({ groupId: `wtest-dlq-${rid()}` });
    const got: { reasonCode: string; source: string; original: Buffer }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [iso.dlq], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const d = await decoder.decode(message.value!);
        got.push(d.value as never);
      },
    });
    await waitFor(async () => got.length >= 2);
    await consumer.disconnect();
    expect(got.map((g) => g.reasonCode)).toEqual(['decode_failed', 'schema_violation']);
    expect(got[0]!.original.toString()).toBe('{"not":"avro"}');
    expect(got[0]!.source).toBe(`kafka:${iso.topic}/0@0`);
  });
});
