// A real Kafka restart under the gateway: the broker process exits (SIGTERM: orderly shutdown; SIGKILL:
// crash) while devices keep publishing QoS 1, and is started again on the same data. The broker is a
// private one (test/support/private-kafka.ts, its own JVM on spare ports): stopping the shared broker on
// 9092 would break everyone else's tests. kafka-outage.int.test.ts covers a frozen (hung) broker.
//
// Checks, per variant: no PUBACK while the broker is down; after the restart every message is acknowledged
// and every acknowledged message is in Kafka exactly as sent (also those acknowledged just before the
// broker died); nothing is dead-lettered.
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Sample } from '../../schemas/types.js';
import {
  privateTopics,
  startTestGateway,
  type TestGateway,
  TopicReader,
  testKafka,
} from '../../test/support/gateway.js';
import {
  createPrivateKafka,
  type PrivateKafka,
  privateKafkaAvailable,
} from '../../test/support/private-kafka.js';
import { sessionKey } from './ingest.js';
import { telemetryTopic } from './topics.js';

/** how long the broker stays down while devices keep publishing */
const DOWN_MS = 6_000;
/** a PUBACK already on its way when the broker died may still arrive within this */
const IN_FLIGHT_GRACE_MS = 500;
const PUBLISH_EVERY_MS = 20;

const sampleAt = (t0: number, seq: number): Sample => ({
  ts: t0 + seq * 1000,
  seq,
  lat: 46.5 + seq * 1.25e-5,
  lon: 6.6 - seq * 0.5e-5,
  alt: 372.5,
  acc: 4,
  speed: 3.25,
  dist: seq * 3.25,
  hr: 120 + (seq % 40),
  cadence: 85,
  power: null,
  lap: seq % 50 === 0,
});

async function highWatermarks(brokers: string, topic: string): Promise<number> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

describe.skipIf(!privateKafkaAvailable())('Kafka restart (private broker)', () => {
  let kafka: PrivateKafka;
  let topics: Awaited<ReturnType<typeof privateTopics>>;
  let gw: TestGateway;

  beforeAll(async () => {
    kafka = await createPrivateKafka();
    await kafka.start();
    topics = await privateTopics(3, kafka.brokers);
    // a short request timeout, so kafkajs gives up on the dead broker and the batcher's retry is exercised
    gw = await startTestGateway(
      {
        TOPIC_SAMPLES: topics.samples,
        TOPIC_DLQ: topics.dlq,
        KAFKA_REQUEST_TIMEOUT_MS: '2000',
        // kafkajs logs every refused reconnect while the broker is down, as errors
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
      },
      kafka.brokers,
    );
  });

  afterAll(async () => {
    // the gateway's close waits for Kafka; the broker must be up for it (it is, unless a test failed mid-way)
    if (kafka && kafka.pid === null) await kafka.start().catch(() => {});
    await gw?.close();
    await kafka?.destroy();
  });

  test.each(['SIGTERM', 'SIGKILL'] as const)(
    'broker stopped with %s mid-stream and restarted: PUBACKs withheld while down, every acked message in Kafka as sent',
    async (signal) => {
      const dev = await gw.device();
      const c = await mqtt.connectAsync(gw.url, {
        protocolVersion: 4,
        clientId: dev.deviceId,
        username: dev.deviceId,
        password: dev.token,
        reconnectPeriod: 0,
      });
      const sessionId = `restart-${signal}-${randomUUID()}`;
      const t0 = Date.now() - 3_600_000;
      const sent: Sample[][] = [];
      const ackedAt: number[] = [];
      const pubs: Promise<unknown>[] = [];
      let seq = 0;
      const publishOne = () => {
        const i = sent.length;
        const samples = [0, 1, 2].map(() => sampleAt(t0, seq++));
        sent.push(samples);
        pubs.push(
          c
            .publishAsync(
              telemetryTopic(dev.deviceId, 'json'),
              JSON.stringify({ sessionId, sport: 'running', samples }),
              { qos: 1 },
            )
            .then(() => {
              ackedAt[i] = Date.now();
            }),
        );
      };
      const stream = setInterval(publishOne, PUBLISH_EVERY_MS);
      try {
        // ~1.5 s of traffic, then the broker goes away in the middle of it
        await new Promise((r) => setTimeout(r, 1_500));
        const ackedBeforeStop = ackedAt.filter((t) => t !== undefined).length;
        expect(ackedBeforeStop).toBeGreaterThan(0);
        await kafka.stop(signal);
        const downAt = Date.now();
        await new Promise((r) => setTimeout(r, DOWN_MS));
        clearInterval(stream);
        const lateAcks = ackedAt.filter((t) => t !== undefined && t > downAt + IN_FLIGHT_GRACE_MS);
        // no PUBACK while the broker was down (a PUBACK already on the wire when it died may land just after)
        expect(lateAcks).toEqual([]);
        const unacked = sent.length - ackedAt.filter((t) => t !== undefined).length;
        expect(unacked).toBeGreaterThan(DOWN_MS / PUBLISH_EVERY_MS / 2);
        await kafka.start();
      } finally {
        clearInterval(stream);
        if (kafka.pid === null) await kafka.start();
      }
      // after the restart every message is acknowledged ...
      await Promise.all(pubs);
      expect(ackedAt.filter((t) => t !== undefined)).toHaveLength(sent.length);
      await c.endAsync();

      // ... and everything acknowledged is in Kafka exactly as sent: read the topic from the start
      const total = await highWatermarks(kafka.brokers, topics.samples);
      const reader = new TopicReader(topics.samples, kafka.brokers);
      await reader.start();
      try {
        await reader.waitFor(total, 60_000);
      } finally {
        await reader.stop();
      }
      const key = sessionKey(dev.deviceId, sessionId);
      const mine = reader.records.filter((r) => r.key === key);
      const bySeq = new Map<number, Sample[]>();
      for (const r of mine) {
        expect(r.decoded.name).toBe('TelemetryBatch');
        if (r.decoded.name !== 'TelemetryBatch') continue;
        const b = r.decoded.value;
        expect([b.deviceId, b.userId, b.sessionId, b.sport]).toEqual([
          dev.deviceId,
          dev.userId,
          sessionId,
          'running',
        ]);
        bySeq.set(b.samples[0]!.seq!, b.samples);
      }
      // one record per message, unless a produce was retried after the broker had stored it (at least once)
      expect(mine.length).toBeGreaterThanOrEqual(sent.length);
      for (const samples of sent) expect(bySeq.get(samples[0]!.seq!)).toEqual(samples);
      expect(bySeq.size).toBe(sent.length);
      // nothing dead-lettered
      expect(await highWatermarks(kafka.brokers, topics.dlq)).toBe(0);
      console.info(
        `${signal}: ${sent.length} messages, ${mine.length} records (${mine.length - sent.length} duplicates)`,
      );
    },
    180_000,
  );
});
