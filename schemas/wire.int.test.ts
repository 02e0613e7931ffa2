// Kafka round trip of the wire format against the local stack: records framed by wire.ts with the
// ids registerSchemas returned travel through a real topic and come back as typed records. Shows the
// two record types of telemetry.samples.v1 (TelemetryBatch, SessionControl) sharing one topic and one
// key, in order. Private topic, subjects and consumer group, all random.
import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { avroTypes, schemaText } from './avro.js';
import { registerSchema, registerSchemas } from './registry.js';
import type { SessionControl, TelemetryBatch } from './types.gen.js';
import { ConfluentDecoder, type DecodedRecord, encodeConfluent } from './wire.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081';
const run = randomUUID();
const topic = `test-wire-${run}`;
const kafka = new Kafka({ clientId: `wire-test-${run}`, brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

it('a session travels through Kafka as start, batch, end and decodes into typed records in order', async () => {
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const ids = await registerSchemas(new SchemaRegistry({ host: registryUrl }), {
    subjectOf: (name) => `test-${run}.${name}`,
  });

  const who = { deviceId: 'dev-1', userId: 'user-1', sessionId: 'run-1' };
  const control = (kind: SessionControl['kind'], ts: number): SessionControl => ({
    ...who,
    kind,
    sport: 'running',
    ts,
    receivedAt: ts + 5,
  });
  const batch: TelemetryBatch = {
    ...who,
    sport: 'running',
    samples: [
      {
        ts: 1001,
        seq: 1,
        lat: 1.5,
        lon: 2.5,
        alt: null,
        acc: 3,
        speed: 2.5,
        dist: null,
        hr: 120,
        cadence: null,
        power: null,
        lap: false,
      },
    ],
    sets: [],
    source: 'mqtt',
    receivedAt: 1100,
    manual: null,
  };
  const key = `${who.deviceId}/${who.sessionId}`;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [
      { key, value: encodeConfluent(ids.SessionControl, avroTypes.SessionControl, control('start', 1000)) },
      { key, value: encodeConfluent(ids.TelemetryBatch, avroTypes.TelemetryBatch, batch) },
      { key, value: encodeConfluent(ids.SessionControl, avroTypes.SessionControl, control('end', 2000)) },
    ],
  });
  await producer.disconnect();

  const decoder = new ConfluentDecoder(new SchemaRegistry({ host: registryUrl }));
  const got: DecodedRecord[] = [];
  const consumer = kafka.consumer({ groupId: `test-wire-${run}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          if (!message.value) return;
          got.push(await decoder.decode(message.value));
          if (got.length === 3) resolve();
        },
      })
      .catch(reject);
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('no records in 30 s')), 30_000),
  );
  try {
    await Promise.race([done, timeout]);
  } finally {
    await consumer.disconnect();
  }

  expect(got.map((r) => r.name)).toEqual(['SessionControl', 'TelemetryBatch', 'SessionControl']);
  expect(got.map((r) => r.schemaId)).toEqual([ids.SessionControl, ids.TelemetryBatch, ids.SessionControl]);
  expect(got[0]?.value).toEqual(control('start', 1000));
  expect(got[1]?.value).toEqual(batch);
  expect(got[2]?.value).toEqual(control('end', 2000));
});

it('a TelemetryBatch written before the manual field existed still decodes (manual null); the registry takes the new schema as BACKWARD compatible', async () => {
  const registry = new SchemaRegistry({ host: registryUrl });
  const subject = `test-${run}-compat.fitstream.v1.TelemetryBatch`;
  // the schema as it was before issue 13's manual entries: the same record without its last field
  const current = JSON.parse(schemaText('TelemetryBatch')) as { fields: { name: string }[] };
  expect(current.fields.at(-1)!.name).toBe('manual');
  const before = { ...current, fields: current.fields.filter((f) => f.name !== 'manual') };
  const oldId = await registerSchema(registry, subject, JSON.stringify(before));
  const newId = await registerSchema(registry, subject, schemaText('TelemetryBatch'));
  expect(newId).not.toBe(oldId);
  const oldType = avro.Type.forSchema(before as avro.Schema);
  const old = {
    deviceId: 'dev-1',
    userId: 'user-1',
    sessionId: 'gym-1',
    sport: 'strength',
    samples: [],
    sets: [{ exercise: 'squat', reps: 5, weightKg: 100, startTs: 1000, endTs: 41_000 }],
    source: 'upload',
    receivedAt: 1100,
  };
  const decoded = await new ConfluentDecoder(registry).decode(encodeConfluent(oldId, oldType as never, old));
  expect(decoded.name).toBe('TelemetryBatch');
  expect(decoded.value).toEqual({ ...old, manual: null });
});
