import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterEach, describe, expect, test } from 'vitest';
import type { Sample } from '../../schemas/types.js';
import { ConfluentDecoder } from '../../schemas/wire.js';
import { batchOf, controlOf, type Isolated, isolate, rid, rows, waitFor } from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { type RunningWorker, startWorkerRuntime } from './app.js';
import { computeActivity } from './compute.js';
import type { ComputeActivity } from './finalise.js';

// Data that ClickHouse refuses or that the activity computation cannot handle is dead-lettered
// with a reason; the partition goes on, the rest is written, and nothing is processed twice.

const T0 = 1_760_000_000_000;
const sample = (i: number, power: number | null = 200): Sample => ({
  ts: T0 + i * 1000,
  seq: i,
  lat: 46.5 + i * 1e-4,
  lon: 6.6 + i * 1e-4,
  alt: 400,
  acc: 5,
  speed: 3,
  dist: null,
  hr: 130,
  cadence: 80,
  power,
  lap: false,
});
const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => sample(from + k));

interface DlqSeen {
  reasonCode: string;
  source: string;
  message: string;
  original: Buffer;
  deviceId: string | null;
}

/** Every record on the test's DLQ topic (reads up to the high watermark). */
async function dlqRecords(iso: Isolated): Promise<DlqSeen[]> {
  const admin = iso.kafka.admin();
  await admin.connect();
  const [o] = await admin.fetchTopicOffsets(iso.dlq);
  await admin.disconnect();
  const high = Number(o!.high);
  if (high === 0) return [];
  const decoder = new ConfluentDecoder(new SchemaRegistry({ host: iso.config.SCHEMA_REGISTRY_URL }));
  const consumer = iso.kafka.consumer({ groupId: `wtest-dlq-${rid()}` });
  const got: DlqSeen[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [iso.dlq], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.push((await decoder.decode(message.value!)).value as never);
    },
  });
  await waitFor(async () => got.length >= high);
  await consumer.disconnect();
  return got;
}

/** Every event on the test's activities topic (reads up to the high watermark). */
async function activityEvents(iso: Isolated): Promise<{ name: string; sessionId: string }[]> {
  const admin = iso.kafka.admin();
  await admin.connect();
  const [o] = await admin.fetchTopicOffsets(iso.activities);
  await admin.disconnect();
  const high = Number(o!.high);
  if (high === 0) return [];
  const decoder = new ConfluentDecoder(new SchemaRegistry({ host: iso.config.SCHEMA_REGISTRY_URL }));
  const consumer = iso.kafka.consumer({ groupId: `wtest-events-${rid()}` });
  const got: { name: string; sessionId: string }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [iso.activities], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const d = await decoder.decode(message.value!);
      got.push({ name: d.name, sessionId: (d.value as { sessionId: string }).sessionId });
    },
  });
  await waitFor(async () => got.length >= high);
  await consumer.disconnect();
  return got;
}

/** The worker group's committed offsets have reached the end of the topic. */
async function lagIsZero(iso: Isolated): Promise<boolean> {
  const admin = iso.kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(iso.topic);
    const [committed] = await admin.fetchOffsets({ groupId: iso.group, topics: [iso.topic] });
    return ends.every((e) => {
      const c = committed!.partitions.find((p) => p.partition === e.partition);
      return c !== undefined && Number(c.offset) === Number(e.high);
    });
  } finally {
    await admin.disconnect();
  }
}

/** Sends records one by one (each is its own Kafka record, in this order); returns their offsets and bytes. */
async function send(iso: Isolated, records: { name: 'TelemetryBatch' | 'SessionControl'; value: never }[]) {
  const offsets: string[] = [];
  const values: Buffer[] = [];
  for (const r of records) {
    const value = await iso.codec.encode(r.name, r.value);
    values.push(value);
    const [m] = await iso.producer.send({
      topic: iso.topic,
      acks: -1,
      messages: [{ key: (r.value as { sessionId: string }).sessionId, value }],
    });
    offsets.push(String(m!.baseOffset));
  }
  return { offsets, values };
}

describe('records ClickHouse rejects', () => {
  let iso: Isolated | undefined;
  let w: RunningWorker | undefined;
  afterEach(async () => {
    await w?.close();
    await iso?.cleanup();
    w = undefined;
    iso = undefined;
  });

  test('are isolated by splitting the insert, dead-lettered as sink_rejected; the rest is written once', async () => {
    iso = await isolate({ partitions: 1 });
    const db = iso.database;
    // A real server-side rejection of specific rows: ClickHouse evaluates this column on insert
    // and refuses the whole insert when any row has power = 4242 (Code: 395).
    await iso.ch.command({
      query: `ALTER TABLE ${db}.samples ADD COLUMN poison UInt8 MATERIALIZED throwIf(ifNull(power, 0) = 4242)`,
    });
    const a = { userId: `u-${rid()}`, deviceId: `d-a-${rid()}`, sessionId: `s-a-${rid()}` };
    const b = { userId: `u-${rid()}`, deviceId: `d-b-${rid()}`, sessionId: `s-b-${rid()}` };
    const bad = range(10, 10).map((s, k) => (k === 4 ? { ...s, power: 4242 } : s));
    const recs = [
      { name: 'SessionControl', value: controlOf(a, 'start', T0) },
      { name: 'SessionControl', value: controlOf(b, 'start', T0) },
      { name: 'TelemetryBatch', value: batchOf(a, range(0, 10)) },
      { name: 'TelemetryBatch', value: batchOf(b, range(0, 10)) },
      { name: 'TelemetryBatch', value: batchOf(a, range(10, 10)) },
      { name: 'TelemetryBatch', value: batchOf(b, bad) },
      { name: 'TelemetryBatch', value: batchOf(a, range(20, 10)) },
      { name: 'TelemetryBatch', value: batchOf(b, range(20, 10)) },
      { name: 'SessionControl', value: controlOf(a, 'end', T0 + 29_000) },
      { name: 'SessionControl', value: controlOf(b, 'end', T0 + 29_000) },
    ] as { name: 'TelemetryBatch' | 'SessionControl'; value: never }[];
    // produced before the worker starts, so they are read (and written) as one flush
    const { offsets, values } = await send(iso, recs);
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'silent'));
    const running = w;

    await waitFor(async () => {
      const [r] = await rows<{ n: number }>(iso!.ch, `SELECT count() AS n FROM ${db}.activities_v`);
      return Number(r!.n) === 2;
    });
    await waitFor(() => lagIsZero(iso!));

    const perSession = await rows<{ session_id: string; n: number; c: number; seqs: number[] }>(
      iso.ch,
      `SELECT session_id, count() AS n, sum(cleaned) AS c, groupArray(seq) AS seqs
       FROM ${db}.samples_v GROUP BY session_id ORDER BY session_id`,
    );
    const got = new Map(perSession.map((r) => [r.session_id, r]));
    expect(Number(got.get(a.sessionId)!.n)).toBe(30);
    expect(Number(got.get(a.sessionId)!.c)).toBe(30);
    // b's rejected record (seq 10..19) is not in ClickHouse; its other 20 samples are, cleaned
    expect(Number(got.get(b.sessionId)!.n)).toBe(20);
    expect(Number(got.get(b.sessionId)!.c)).toBe(20);
    expect(
      got
        .get(b.sessionId)!
        .seqs.map(Number)
        .filter((s) => s >= 10 && s < 20),
    ).toEqual([]);
    const acts = await rows<{ session_id: string; sample_count: number }>(
      iso.ch,
      `SELECT session_id, sample_count FROM ${db}.activities_v ORDER BY session_id`,
    );
    expect(Object.fromEntries(acts.map((r) => [r.session_id, Number(r.sample_count)]))).toEqual({
      [a.sessionId]: 30,
      [b.sessionId]: 20,
    });
    // a was finalised from its in-memory image; b, which lost a record, was read back
    expect(running.sessions.inputs).toEqual({ memory: 1, clickhouse: 1 });

    const dlq = await dlqRecords(iso);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.reasonCode).toBe('sink_rejected');
    expect(dlq[0]!.source).toBe(`kafka:${iso.topic}/0@${offsets[5]}`);
    expect(dlq[0]!.message).toContain('Code: 395');
    expect(dlq[0]!.deviceId).toBe(b.deviceId);
    // the bytes exactly as consumed, so the record can be fixed and replayed
    expect(dlq[0]!.original.equals(values[5]!)).toBe(true);

    // a restart resumes after the committed offsets: nothing is dead-lettered or written again
    await running.close();
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'silent'));
    const c = { userId: `u-${rid()}`, deviceId: `d-c-${rid()}`, sessionId: `s-c-${rid()}` };
    await send(iso, [
      { name: 'TelemetryBatch', value: batchOf(c, range(0, 5)) as never },
      { name: 'SessionControl', value: controlOf(c, 'end', T0 + 4000) as never },
    ]);
    await waitFor(async () => {
      const [r] = await rows<{ n: number }>(iso!.ch, `SELECT count() AS n FROM ${db}.activities_v`);
      return Number(r!.n) === 3;
    });
    await waitFor(() => lagIsZero(iso!));
    expect(await dlqRecords(iso)).toHaveLength(1);
    const [t] = await rows<{ n: number; u: number }>(
      iso.ch,
      `SELECT count() AS n, uniqExact(device_id, session_id, sample_key) AS u FROM ${db}.samples_v`,
    );
    expect(Number(t!.n)).toBe(55);
    expect(Number(t!.u)).toBe(55);
    // the restarted worker saw only c
    expect(w.sessions.stats.created).toBe(1);
  }, 120_000);
});

describe('sessions whose activity computation throws', () => {
  let iso: Isolated | undefined;
  let w: RunningWorker | undefined;
  afterEach(async () => {
    await w?.close();
    await iso?.cleanup();
    w = undefined;
    iso = undefined;
  });

  test('are dead-lettered as finalise_failed naming the session; the others are finalised', async () => {
    iso = await isolate({ partitions: 1 });
    const db = iso.database;
    // the failure under test is the computation's own: it throws for one session's data
    const compute: ComputeActivity = (input, opts) => {
      if (input.sessionId.startsWith('boom-')) throw new Error(`cannot compute ${input.sessionId}`);
      return computeActivity(input, opts);
    };
    const bad = { userId: `u-${rid()}`, deviceId: `d-x-${rid()}`, sessionId: `boom-${rid()}` };
    const good = { userId: `u-${rid()}`, deviceId: `d-y-${rid()}`, sessionId: `s-y-${rid()}` };
    const late = { userId: `u-${rid()}`, deviceId: `d-z-${rid()}`, sessionId: `s-z-${rid()}` };
    w = await startWorkerRuntime(iso.config, compute, createLogger('worker-test', 'silent'));
    await send(iso, [
      { name: 'TelemetryBatch', value: batchOf(bad, range(0, 10)) as never },
      { name: 'TelemetryBatch', value: batchOf(good, range(0, 10)) as never },
      { name: 'SessionControl', value: controlOf(bad, 'end', T0 + 9000) as never },
      { name: 'SessionControl', value: controlOf(good, 'end', T0 + 9000) as never },
    ]);
    await waitFor(async () => {
      const [r] = await rows<{ n: number }>(iso!.ch, `SELECT count() AS n FROM ${db}.activities_v`);
      return Number(r!.n) === 1;
    });
    // the partition goes on: a later session is finalised too
    await send(iso, [
      { name: 'TelemetryBatch', value: batchOf(late, range(0, 10)) as never },
      { name: 'SessionControl', value: controlOf(late, 'end', T0 + 9000) as never },
    ]);
    await waitFor(async () => {
      const [r] = await rows<{ n: number }>(iso!.ch, `SELECT count() AS n FROM ${db}.activities_v`);
      return Number(r!.n) === 2;
    });
    await waitFor(() => lagIsZero(iso!));
    const acts = await rows<{ session_id: string }>(
      iso.ch,
      `SELECT session_id FROM ${db}.activities_v ORDER BY session_id`,
    );
    expect(acts.map((r) => r.session_id).sort()).toEqual([good.sessionId, late.sessionId].sort());
    // the failed session's samples are durable (raw), ready for a retry
    const [n] = await rows<{ n: number }>(
      iso.ch,
      `SELECT count() AS n FROM ${db}.samples_v WHERE session_id = '${bad.sessionId}' AND cleaned = 0`,
    );
    expect(Number(n!.n)).toBe(10);

    const dlq = await dlqRecords(iso);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.reasonCode).toBe('finalise_failed');
    expect(dlq[0]!.source).toBe(`finalise:${bad.deviceId}/${bad.sessionId}`);
    expect(dlq[0]!.deviceId).toBe(bad.deviceId);
    expect(dlq[0]!.message).toContain(`cannot compute ${bad.sessionId}`);
    expect(dlq[0]!.message).toContain(`replay --user ${bad.userId}`);
    expect(JSON.parse(dlq[0]!.original.toString())).toEqual({
      ...bad,
      sport: 'running',
      firstTs: T0,
      lastTs: T0 + 9000,
      samples: 10,
    });
    expect(w.sessions.stats.failed).toBe(1);
  }, 120_000);

  test('a session whose cleaned rows ClickHouse refuses is dead-lettered as finalise_failed; the others are stored', async () => {
    iso = await isolate({ partitions: 1 });
    const db = iso.database;
    // a real rejection of one session's cleaned rows (its streams row, written at finalisation),
    // not of its raw ones
    await iso.ch.command({
      query: `ALTER TABLE ${db}.activity_streams ADD COLUMN poison UInt8 MATERIALIZED throwIf(session_id LIKE 'refused-%')`,
    });
    const bad = { userId: `u-${rid()}`, deviceId: `d-x-${rid()}`, sessionId: `refused-${rid()}` };
    const good = { userId: `u-${rid()}`, deviceId: `d-y-${rid()}`, sessionId: `s-y-${rid()}` };
    const recs = [
      { name: 'TelemetryBatch', value: batchOf(bad, range(0, 10)) },
      { name: 'TelemetryBatch', value: batchOf(good, range(0, 10)) },
      { name: 'SessionControl', value: controlOf(bad, 'end', T0 + 9000) },
      { name: 'SessionControl', value: controlOf(good, 'end', T0 + 9000) },
    ] as { name: 'TelemetryBatch' | 'SessionControl'; value: never }[];
    // produced before the worker starts: both sessions are finalised in one round
    await send(iso, recs);
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'silent'));
    const running = w;
    await waitFor(async () => {
      const [r] = await rows<{ n: number }>(iso!.ch, `SELECT count() AS n FROM ${db}.activities_v`);
      return Number(r!.n) === 1;
    });
    await waitFor(() => lagIsZero(iso!));
    const acts = await rows<{ session_id: string }>(iso.ch, `SELECT session_id FROM ${db}.activities_v`);
    expect(acts.map((r) => r.session_id)).toEqual([good.sessionId]);
    const per = await rows<{ session_id: string; n: number; c: number }>(
      iso.ch,
      `SELECT session_id, count() AS n, sum(cleaned) AS c FROM ${db}.samples_v GROUP BY session_id`,
    );
    expect(Object.fromEntries(per.map((r) => [r.session_id, [Number(r.n), Number(r.c)]]))).toEqual({
      [good.sessionId]: [10, 10],
      [bad.sessionId]: [10, 0],
    });
    const dlq = await dlqRecords(iso);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.reasonCode).toBe('finalise_failed');
    expect(dlq[0]!.source).toBe(`finalise:${bad.deviceId}/${bad.sessionId}`);
    expect(dlq[0]!.message).toContain('Code: 395');
    expect(running.sessions.stats).toMatchObject({ created: 1, failed: 1 });
    // the refused session's activity was never announced; the stored one was, once
    expect(await activityEvents(iso)).toEqual([{ name: 'ActivityCreated', sessionId: good.sessionId }]);
  }, 120_000);
});
