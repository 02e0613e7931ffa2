import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { activityIdFor } from '../../pipelines/index.js';
import { liveKeys } from '../../schemas/live-keys.js';
import { ConfluentDecoder } from '../../schemas/wire.js';
import {
  batchOf,
  controlOf,
  type Isolated,
  isolate,
  type Outbound,
  produce,
  rid,
  rows,
  waitFor,
} from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { createS3, type RunningWorker, startWorkerRuntime } from './app.js';
import { computeActivity } from './compute.js';

// Kafka -> worker -> ClickHouse + Redis + S3 on the real local stack, isolated by random names.
describe('worker end to end', () => {
  let iso: Isolated;
  let w: RunningWorker;
  const redis = new Redis('redis://127.0.0.1:6379');

  beforeAll(async () => {
    iso = await isolate();
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
  });
  afterAll(async () => {
    await w?.close();
    await iso?.cleanup();
    redis.disconnect();
  });

  test('samples land in ClickHouse, Redis and S3; an end message yields one activity', async () => {
    const ids = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
    const liveId = activityIdFor(ids.userId, ids.deviceId, ids.sessionId);
    const { samples } = generateSession({ sport: 'running', seed: 7, durationS: 600 });
    const recs: Outbound[] = [{ name: 'SessionControl', value: controlOf(ids, 'start', samples[0]!.ts) }];
    for (let i = 0; i < samples.length; i += 30) {
      recs.push({ name: 'TelemetryBatch', value: batchOf(ids, samples.slice(i, i + 30)) });
    }
    const sub = new Redis('redis://127.0.0.1:6379');
    const messages: string[] = [];
    await sub.subscribe(liveKeys.sessionChannel(liveId));
    sub.on('message', (_c, m) => messages.push(m));
    await produce(iso, recs);

    const db = iso.database;
    await waitFor(async () => {
      const [r] = await rows<{ n: number }>(
        iso.ch,
        `SELECT count() AS n FROM ${db}.samples_v WHERE session_id = '${ids.sessionId}'`,
      );
      return Number(r?.n) === samples.length;
    });
    const live = await waitFor(async () => {
      const h = await redis.hgetall(liveKeys.hash(liveId));
      return Number(h.samples) === samples.length ? h : null;
    });
    expect(live.userId).toBe(ids.userId);
    expect(Number(live.distanceM)).toBeGreaterThan(500);
    expect(await redis.ttl(liveKeys.hash(liveId))).toBeGreaterThan(3000);
    expect(messages.length).toBeGreaterThan(0);

    await produce(iso, [{ name: 'SessionControl', value: controlOf(ids, 'end', samples.at(-1)!.ts) }]);
    const acts = await waitFor(async () => {
      const r = await rows<Record<string, unknown>>(
        iso.ch,
        `SELECT * FROM ${db}.activities_v WHERE session_id = '${ids.sessionId}'`,
      );
      return r.length ? r : null;
    });
    expect(acts).toHaveLength(1);
    const a = acts[0]!;
    expect(Number(a.sample_count)).toBe(samples.length);
    expect(Number(a.distance_m)).toBeGreaterThan(1000);
    expect(String(a.polyline).length).toBeGreaterThan(10);
    const cleaned = await rows<{ n: number; c: number }>(
      iso.ch,
      `SELECT count() AS n, sum(cleaned) AS c FROM ${db}.samples_v WHERE session_id = '${ids.sessionId}'`,
    );
    expect(Number(cleaned[0]!.c)).toBe(samples.length);
    const ended = await waitFor(async () => {
      const h = await redis.hgetall(liveKeys.hash(liveId));
      return h.status === 'ended' ? h : null;
    });
    expect(ended.status).toBe('ended');
    expect(ended.activityId).toBe(a.activity_id);

    // S3: objects + manifests under the test's prefix, holding every record exactly once
    const s3 = createS3(iso.config);
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: iso.config.S3_BUCKET, Prefix: `${iso.prefix}/manifest/` }),
    );
    let archived = 0;
    for (const o of listed.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: iso.config.S3_BUCKET, Key: o.Key! }));
      archived += JSON.parse(await body.Body!.transformToString()).count as number;
    }
    expect(archived).toBe(recs.length + 1);
    s3.destroy();
    sub.disconnect();

    // late data for the finalised session: recomputed, version bumped, ActivityUpdated published
    const late = generateSession({ sport: 'running', seed: 7, durationS: 660 }).samples.slice(samples.length);
    await produce(iso, [{ name: 'TelemetryBatch', value: batchOf(ids, late) }]);
    const updated = await waitFor(async () => {
      const r = await rows<Record<string, unknown>>(
        iso.ch,
        `SELECT * FROM ${db}.activities_v WHERE session_id = '${ids.sessionId}'`,
      );
      return r.length === 1 && Number(r[0]!.version) > Number(a.version) ? r[0]! : null;
    });
    expect(Number(updated.sample_count)).toBe(samples.length + late.length);
    expect(Number(updated.version) - Number(a.version)).toBe(late.length);
    const events = await readEvents(iso, 2);
    expect(events.map((e) => e.name)).toEqual(['ActivityCreated', 'ActivityUpdated']);
    expect(events[1]!.value.version).toBe(Number(updated.version));
    expect(events[1]!.value.reason).toBe('late_data');
  });
});

async function readEvents(iso: Isolated, n: number) {
  const decoder = new ConfluentDecoder(new SchemaRegistry({ host: iso.config.SCHEMA_REGISTRY_URL }));
  const consumer = iso.kafka.consumer({ groupId: `wtest-read-${rid()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [iso.activities], fromBeginning: true });
  const out: { name: string; value: { version: number; reason?: string } }[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      const d = await decoder.decode(message.value!);
      out.push({ name: d.name, value: d.value as { version: number; reason?: string } });
    },
  });
  await waitFor(async () => out.length >= n);
  await consumer.disconnect();
  return out;
}

// The live view is pushed apart from the durable flush: with a flush interval of a minute, a coach
// sees the samples within about WORKER_LIVE_INTERVAL_MS while no sink has stored any of them yet.
describe('live view apart from the flush', () => {
  let iso: Isolated;
  let w: RunningWorker | undefined;
  const redis = new Redis('redis://127.0.0.1:6379');

  beforeAll(async () => {
    iso = await isolate({
      env: {
        WORKER_FLUSH_INTERVAL_MS: '60000',
        WORKER_BATCH_ROWS: '1000000',
        WORKER_LIVE_INTERVAL_MS: '100',
      },
    });
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
  });
  afterAll(async () => {
    await w?.close();
    await iso?.cleanup();
    redis.disconnect();
  });

  test('live state shows samples and the end before the flush stores them; close flushes', async () => {
    const ids = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
    const liveId = activityIdFor(ids.userId, ids.deviceId, ids.sessionId);
    const { samples } = generateSession({ sport: 'running', seed: 11, durationS: 120 });
    const recs: Outbound[] = [{ name: 'SessionControl', value: controlOf(ids, 'start', samples[0]!.ts) }];
    for (let i = 0; i < samples.length; i += 20) {
      recs.push({ name: 'TelemetryBatch', value: batchOf(ids, samples.slice(i, i + 20)) });
    }
    await produce(iso, recs);
    const live = await waitFor(async () => {
      const h = await redis.hgetall(liveKeys.hash(liveId));
      return Number(h.samples) === samples.length ? h : null;
    }, 20_000);
    expect(live.status).toBe('active');
    // nothing flushed yet: no row in ClickHouse (the flush is a minute away)
    const [stored] = await rows<{ n: number }>(
      iso.ch,
      `SELECT count() AS n FROM ${iso.database}.samples_v WHERE session_id = '${ids.sessionId}'`,
    );
    expect(Number(stored!.n)).toBe(0);
    // the end too, still before any flush
    await produce(iso, [{ name: 'SessionControl', value: controlOf(ids, 'end', samples.at(-1)!.ts) }]);
    await waitFor(async () => (await redis.hget(liveKeys.hash(liveId), 'status')) === 'ended', 20_000);
    const running = w!;
    w = undefined;
    await running.close();
    const [after] = await rows<{ n: number }>(
      iso.ch,
      `SELECT count() AS n FROM ${iso.database}.samples_v WHERE session_id = '${ids.sessionId}'`,
    );
    // close flushed what was read
    expect(Number(after!.n)).toBe(samples.length);
  }, 60_000);
});
