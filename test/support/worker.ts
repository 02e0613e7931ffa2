// Test support for the worker's integration tests and benches: isolated names on the real stack
// (random topic, consumer group, ClickHouse database, S3 prefix), record producers, polling.
import { randomBytes } from 'node:crypto';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { Sample, SessionControl, TelemetryBatch } from '../../schemas/types.js';
import { parseEnv } from '../../services/common/config.js';
import { applyWorkerSchema } from '../../services/worker/clickhouse-schema.js';
import { createRecordCodec, type RecordCodec } from '../../services/worker/codec.js';
import { checkWorkerConfig, type WorkerConfig, workerEnv } from '../../services/worker/config.js';

export const rid = (n = 6): string => randomBytes(n).toString('hex');

/**
 * Creates `database` with the worker's ClickHouse tables, for tests of the worker and of what reads those
 * tables (the API): a service's tests may not import another service, so they get the tables here.
 */
export const createWorkerTables = applyWorkerSchema;

export interface Isolated {
  id: string;
  topic: string;
  activities: string;
  dlq: string;
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
  const activities = `wtest.activities.${id}`;
  const dlq = `wtest.dlq.${id}`;
  const database = `wtest_${id}`;
  const group = `wtest-${id}`;
  const prefix = `wtest/${id}`;
  const config = checkWorkerConfig(
    parseEnv(workerEnv, {
      TOPIC_SAMPLES: topic,
      TOPIC_ACTIVITIES: activities,
      TOPIC_DLQ: dlq,
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
  for (const [t, n] of [
    [topic, opts.partitions ?? 4],
    [activities, 1],
    [dlq, 1],
  ] as const) {
    await admin.createTopics({
      topics: [{ topic: t, numPartitions: n, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  }
  const have = new Set(await admin.listTopics());
  for (const t of [topic, activities, dlq]) if (!have.has(t)) throw new Error(`topic ${t} was not created`);
  await admin.disconnect();
  const ch = createClient({
    url: config.CLICKHOUSE_URL,
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    // the ClickHouse-outage test polls through a cut proxy: failures are expected, not log-worthy
    log: { level: ClickHouseLogLevel.OFF },
  });
  await createWorkerTables(ch, database);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const codec = createRecordCodec(config.SCHEMA_REGISTRY_URL);
  return {
    id,
    topic,
    activities,
    dlq,
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
      await a.deleteTopics({ topics: [topic, activities, dlq] }).catch(() => {});
      await a.disconnect();
      await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
      await ch.close();
      await deletePrefix(config, `${prefix}/`).catch(() => {});
    },
  };
}

/** Removes every archive object under a test's prefix. */
async function deletePrefix(config: WorkerConfig, prefix: string): Promise<void> {
  const { DeleteObjectsCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const { createS3 } = await import('../../services/worker/app.js');
  const s3 = createS3(config);
  try {
    for (;;) {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: config.S3_BUCKET, Prefix: prefix }));
      const keys = (r.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length === 0) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: config.S3_BUCKET, Delete: { Objects: keys } }));
    }
  } finally {
    s3.destroy();
  }
}

export function batchOf(
  ids: { userId: string; deviceId: string; sessionId: string },
  samples: Sample[],
  sport: TelemetryBatch['sport'] = 'running',
): TelemetryBatch {
  return { ...ids, sport, samples, sets: [], source: 'test', receivedAt: Date.now(), manual: null };
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

/** A deterministic data set: `sessions` sessions of `durationS` s, start + batches of 30 + end. */
export function dataset(
  tag: string,
  sessions: number,
  durationS: number,
  generate: (seed: number, durationS: number) => Sample[],
): { records: Outbound[]; samples: number } {
  const records: Outbound[] = [];
  let total = 0;
  for (let i = 0; i < sessions; i++) {
    const ids = { userId: `u-${tag}-${i % 3}`, deviceId: `d-${tag}-${i}`, sessionId: `s-${tag}-${i}` };
    const samples = generate(i + 1, durationS);
    total += samples.length;
    records.push({
      name: 'SessionControl',
      value: { ...controlOf(ids, 'start', samples[0]!.ts), receivedAt: 0 },
    });
    for (let j = 0; j < samples.length; j += 30) {
      records.push({
        name: 'TelemetryBatch',
        value: { ...batchOf(ids, samples.slice(j, j + 30)), receivedAt: 0 },
      });
    }
    records.push({
      name: 'SessionControl',
      value: { ...controlOf(ids, 'end', samples.at(-1)!.ts), receivedAt: 0 },
    });
  }
  return { records, samples: total };
}

/** Deterministic shuffle (mulberry32). */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Everything a user or analyst can read from the worker's tables, deduplicated, in a stable order. */
export async function snapshotTables(ch: ClickHouseClient, db: string) {
  const samples = await rows(
    ch,
    `SELECT * FROM ${db}.samples_v ORDER BY user_id, device_id, session_id, sample_key`,
  );
  const activities = await rows(ch, `SELECT * FROM ${db}.activities_v ORDER BY user_id, activity_id`);
  const daily = await rows(ch, `SELECT * FROM ${db}.daily_user_stats ORDER BY user_id, day, sport`);
  const [c] = await rows<{ n: number; u: number }>(
    ch,
    `SELECT count() AS n, uniqExact(device_id, session_id, sample_key) AS u FROM ${db}.samples_v`,
  );
  return { samples, activities, daily, count: Number(c!.n), unique: Number(c!.u) };
}

/** Total rows the samples_v view returns (for polling until a run is complete). */
export async function cleanedCount(
  ch: ClickHouseClient,
  db: string,
): Promise<{ rows: number; cleaned: number; activities: number }> {
  const [r] = await rows<{ n: number; c: number }>(
    ch,
    `SELECT count() AS n, sum(cleaned) AS c FROM ${db}.samples_v`,
  );
  const [a] = await rows<{ n: number }>(ch, `SELECT count() AS n FROM ${db}.activities_v`);
  return { rows: Number(r!.n), cleaned: Number(r!.c), activities: Number(a!.n) };
}
