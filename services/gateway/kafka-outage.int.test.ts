// "Kafka stopped": the test freezes the local Kafka broker (test/support/kafka-freeze.ts says how and why).
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  privateTopics,
  startTestGateway,
  type TestGateway,
  TopicReader,
  testKafka,
} from '../../test/support/gateway.js';
import { canFreezeKafka, withKafkaFrozen } from '../../test/support/kafka-freeze.js';
import { sessionKey } from './ingest.js';
import { telemetryTopic } from './topics.js';

const FREEZE_MS = 8_000;

// Needs the native local stack (infra/local), whose Kafka this process may signal; skipped elsewhere
// (e.g. the docker-compose stack, where the broker is not our child's sibling).
describe.skipIf(!canFreezeKafka)('Kafka outage', () => {
  let topics: Awaited<ReturnType<typeof privateTopics>>;
  let gw: TestGateway;
  let reader: TopicReader;

  beforeAll(async () => {
    topics = await privateTopics();
    // a request timeout shorter than the freeze, so kafkajs gives up and the batcher's retry is exercised
    gw = await startTestGateway({
      TOPIC_SAMPLES: topics.samples,
      TOPIC_DLQ: topics.dlq,
      KAFKA_REQUEST_TIMEOUT_MS: '2000',
    });
    reader = new TopicReader(topics.samples);
    await reader.start();
  });

  afterAll(async () => {
    await reader?.stop();
    await gw?.close();
    await topics?.drop();
  });

  test('QoS 1 acks are withheld while Kafka is stopped and every message arrives after it resumes', async () => {
    const dev = await gw.device();
    const c = await mqtt.connectAsync(gw.url, {
      protocolVersion: 4,
      clientId: dev.deviceId,
      username: dev.deviceId,
      password: dev.token,
      reconnectPeriod: 0,
    });
    const sessionId = `outage-${randomUUID()}`;
    const N = 50;
    const acked: number[] = [];
    const t0 = Date.now();
    const results = await withKafkaFrozen(async () => {
      const pubs = Array.from({ length: N }, (_, i) =>
        c
          .publishAsync(
            telemetryTopic(dev.deviceId, 'json'),
            JSON.stringify({
              sessionId,
              sport: 'running',
              samples: [{ ts: t0 + i * 1000, seq: i, lat: 48.1 + i * 1e-5, lon: 11.5, hr: 120 }],
            }),
            { qos: 1 },
          )
          .then(() => acked.push(Date.now() - t0)),
      );
      await new Promise((r) => setTimeout(r, FREEZE_MS));
      // nothing acknowledged while the broker was frozen
      expect(acked).toEqual([]);
      return pubs;
    });
    await Promise.all(results);
    expect(acked).toHaveLength(N);
    expect(Math.min(...acked)).toBeGreaterThanOrEqual(FREEZE_MS);
    await reader.waitFor(1, 30_000);
    const t1 = Date.now();
    let seqs = new Set<number>();
    while (seqs.size < N && Date.now() - t1 < 15_000) {
      seqs = new Set(
        reader.records
          .filter((r) => r.key === sessionKey(dev.deviceId, sessionId) && r.decoded.name === 'TelemetryBatch')
          .flatMap((r) =>
            r.decoded.name === 'TelemetryBatch' ? r.decoded.value.samples.map((s) => s.seq ?? -1) : [],
          ),
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seqs.size).toBe(N);
    await c.endAsync();
  });

  test('a flood while Kafka is stopped turns on back-pressure and the backlog stays bounded', async () => {
    const t2 = await privateTopics(1);
    const HIGH = 32_768;
    const small = await startTestGateway({
      TOPIC_SAMPLES: t2.samples,
      TOPIC_DLQ: t2.dlq,
      MAX_PAYLOAD_BYTES: '4096',
      BATCH_MAX_BYTES: '8192',
      INFLIGHT_HIGH_BYTES: String(HIGH),
      INFLIGHT_LOW_BYTES: '16384',
      KAFKA_REQUEST_TIMEOUT_MS: '2000',
    });
    const r2 = new TopicReader(t2.samples);
    await r2.start();
    try {
      const devices = await Promise.all([0, 1, 2, 3].map(() => small.device()));
      const clients = await Promise.all(
        devices.map((d) =>
          mqtt.connectAsync(small.url, {
            protocolVersion: 4,
            clientId: d.deviceId,
            username: d.deviceId,
            password: d.token,
            reconnectPeriod: 0,
          }),
        ),
      );
      const PER = 150;
      const t0 = Date.now();
      let maxBacklog = 0;
      let sawBackpressure = false;
      const pubs = await withKafkaFrozen(async () => {
        const ps = clients.flatMap((c, k) =>
          Array.from({ length: PER }, (_, i) =>
            c.publishAsync(
              telemetryTopic(devices[k]!.deviceId, 'json'),
              JSON.stringify({
                sessionId: 'flood',
                sport: 'cycling',
                samples: [0, 1, 2].map((j) => ({
                  ts: t0 - 3_600_000 + (i * 3 + j) * 1000,
                  seq: i * 3 + j,
                  lat: 47.1,
                  lon: 8.5,
                  hr: 130,
                  power: 250,
                })),
              }),
              { qos: 1 },
            ),
          ),
        );
        const until = Date.now() + FREEZE_MS;
        while (Date.now() < until) {
          maxBacklog = Math.max(maxBacklog, small.gateway.batcher.backlogBytes);
          sawBackpressure ||= small.gateway.batcher.isBackpressured;
          await new Promise((r) => setTimeout(r, 50));
        }
        return ps;
      });
      expect(sawBackpressure).toBe(true);
      // at most one message above the high mark is admitted; the rest waits in unread sockets
      expect(maxBacklog).toBeLessThanOrEqual(HIGH + 4096 + 512);
      await Promise.all(pubs);
      await r2.waitFor(devices.length * PER, 30_000);
      // offsets, not the reader's count: a consumer may see a record twice across the freeze
      const admin = testKafka().admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(t2.samples);
      await admin.disconnect();
      expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBeGreaterThanOrEqual(devices.length * PER);
      expect(new Set(r2.records.map((r) => r.key)).size).toBe(devices.length);
      for (const c of clients) await c.endAsync();
    } finally {
      await r2.stop();
      await small.close();
      await t2.drop();
    }
  });
});
