// Test support for the worker's integration tests and benches: isolated names on the real stack
// (random topic, consumer group, ClickHouse database, S3 prefix), record producers, polling.
import { randomBytes } from 'node:crypto';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { Sample, SessionControl, TelemetryBatch } from '../../schemas/types.js';
import { parseEnv } from '../common/config.js';
import { applyWorkerSchema } from './clickhouse-schema.js';
import { createRecordCodec, type RecordCodec } from './codec.js';
import { checkWorkerConfig, type WorkerConfig, workerEnv } from './config.js';

export const rid = (n = 6): string => randomBytes(n).toString('hex');

export interface Isolated {
  id: string;
  topic: string;
  database: string;
  group: string;
  prefix: string;
  config: WorkerConfig;
  kafka: Kafka;
  ch: ClickHouseClient;
  codec: RecordCodec;
  producer: Producer;
  cleanup(): Promise<void>;
}

/** A private topic + database + group + S3 prefix, and a worker config pointing at them. */
export async function isolate(
  opts: { partitions?: number; env?: Record<string, string> } = {},
): Promise<Isolated> {
  const id = rid();
  const topic = `wtest.samples.${id}`;
  const database = `wtest_${id}`;
  const group = `wtest-${id}`;
  const prefix = `wtest/${id}`;
  const config = checkWorkerConfig(
    parseEnv(workerEnv, {
      TOPIC_SAMPLES: topic,
      CLICKHOUSE_DATABASE: database,
      WORKER_GROUP_ID: group,
      WORKER_ARCHIVE_PREFIX: prefix,
      WORKER_OPS_PORT: '0',
      WORKER_FLUSH_INTERVAL_MS: '300',
      WORKER_SESSION_TIMEOUT_S: '600',
      WORKER_SWEEP_INTERVAL_MS: '500',
      LOG_LEVEL: 'warn',
      ...opts.env,
    }),
  );
  const kafka = new Kafka({
    clientId: `wtest-${id}`,
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: opts.partitions ?? 4, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const ch = createClient({
    url: config.CLICKHOUSE_URL,
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  await applyWorkerSchema(ch, database);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const codec = createRecordCodec(config.SCHEMA_REGISTRY_URL);
  return {
    id,
    topic,
    database,
    group,
    prefix,
    config,
    kafka,
    ch,
    codec,
    producer,
    async cleanup() {
      await producer.disconnect().catch(() => {});
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics: [topic] }).catch(() => {});
      await a.disconnect();
      await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
      await ch.close();
    },
  };
}

export function batchOf(
  ids: { userId: string; deviceId: string; sessionId: string },
  samples: Sample[],
  sport: TelemetryBatch['sport'] = 'running',
): TelemetryBatch {
  return { ...ids, sport, samples, sets: [], source: 'test', receivedAt: Date.now() };
}

export function controlOf(
  ids: { userId: string; deviceId: string; sessionId: string },
  kind: SessionControl['kind'],
  ts: number,
  sport: SessionControl['sport'] = 'running',
): SessionControl {
  return { ...ids, kind, sport, ts, receivedAt: Date.now() };
}

export type Outbound =
  | { name: 'TelemetryBatch'; value: TelemetryBatch }
  | { name: 'SessionControl'; value: SessionControl };

/** Produces records (key = sessionId) in the given order, one send. */
export async function produce(iso: Isolated, records: readonly Outbound[]): Promise<void> {
  const messages = await Promise.all(
    records.map(async (r) => ({
      key: r.value.sessionId,
      value: await iso.codec.encode(r.name, r.value as never),
    })),
  );
  for (let i = 0; i < messages.length; i += 500) {
    await iso.producer.send({ topic: iso.topic, acks: -1, messages: messages.slice(i, i + 500) });
  }
}

export async function rows<T = Record<string, unknown>>(ch: ClickHouseClient, query: string): Promise<T[]> {
  return (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
}

/** Polls `f` until it returns a truthy value (returned) or `timeoutMs` passes (throws). */
export async function waitFor<T>(
  f: () => Promise<T>,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`waitFor timed out${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
