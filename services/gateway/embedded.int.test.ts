import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeAvro } from '../../schemas/avro.js';
import {
  privateTopics,
  startTestGateway,
  type TestGateway,
  TopicReader,
} from '../../test/support/gateway.js';
import { revokeDeviceToken } from '../common/device-tokens.js';
import { sessionKey } from './ingest.js';
import { commandTopic, sessionTopic, telemetryTopic } from './topics.js';

const sample = (i: number, t0: number) => ({
  ts: t0 + i * 1000,
  seq: i,
  lat: 52.52 + i * 1e-5,
  lon: 13.405 + i * 1e-5,
  alt: 34,
  acc: 4,
  speed: 3.125,
  dist: i * 3.125,
  hr: 140 + (i % 10),
  cadence: 170,
  power: null,
  lap: false,
});

function connect(
  url: string,
  deviceId: string,
  token: string,
  extra: mqtt.IClientOptions = {},
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    protocolVersion: 4,
    clientId: deviceId,
    username: deviceId,
    password: token,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...extra,
  });
}

function closed(c: MqttClient, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!c.connected) return resolve();
    const t = setTimeout(() => reject(new Error('connection not closed')), timeoutMs);
    c.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe('embedded gateway (MQTT 3.1.1, real Kafka)', () => {
  let topics: Awaited<ReturnType<typeof privateTopics>>;
  let gw: TestGateway;
  let samples: TopicReader;
  let dlq: TopicReader;

  beforeAll(async () => {
    topics = await privateTopics();
    gw = await startTestGateway({
      TOPIC_SAMPLES: topics.samples,
      TOPIC_DLQ: topics.dlq,
      MAX_PAYLOAD_BYTES: '8192',
      BATCH_MAX_BYTES: '65536',
      INFLIGHT_HIGH_BYTES: '1048576',
      INFLIGHT_LOW_BYTES: '524288',
    });
    samples = new TopicReader(topics.samples);
    dlq = new TopicReader(topics.dlq);
    await Promise.all([samples.start(), dlq.start()]);
  });

  afterAll(async () => {
    await Promise.all([samples?.stop(), dlq?.stop()]);
    await gw?.close();
    await topics?.drop();
  });

  test('JSON and Avro batches and session control arrive decodable, keyed by session, with the owner', async () => {
    const dev = await gw.device();
    const c = await connect(gw.url, dev.deviceId, dev.token);
    const sessionId = `s-${randomUUID()}`;
    const t0 = Date.now() - 60_000;
    const before = samples.records.length;
    await c.publishAsync(
      sessionTopic(dev.deviceId),
      JSON.stringify({ sessionId, kind: 'start', sport: 'running', ts: t0 }),
      { qos: 1 },
    );
    await c.publishAsync(
      telemetryTopic(dev.deviceId, 'json'),
      JSON.stringify({ sessionId, sport: 'running', samples: [0, 1, 2, 3, 4].map((i) => sample(i, t0)) }),
      { qos: 1 },
    );
    await c.publishAsync(
      telemetryTopic(dev.deviceId, 'avro'),
      encodeAvro('DeviceTelemetry', {
        sessionId,
        sport: 'running',
        samples: [5, 6, 7, 8, 9].map((i) => sample(i, t0)),
        sets: [],
      }),
      { qos: 1 },
    );
    await c.publishAsync(
      sessionTopic(dev.deviceId, 'avro'),
      encodeAvro('DeviceSession', { sessionId, kind: 'end', sport: 'running', ts: t0 + 10_000 }),
      { qos: 1 },
    );
    // PUBACKs came back, so the records are in Kafka already
    await samples.waitFor(before + 4, 5000);
    const mine = samples.records.filter((r) => r.key === sessionKey(dev.deviceId, sessionId));
    expect(mine.map((r) => r.decoded.name)).toEqual([
      'SessionControl',
      'TelemetryBatch',
      'TelemetryBatch',
      'SessionControl',
    ]);
    expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
    const batches = mine.flatMap((r) => (r.decoded.name === 'TelemetryBatch' ? [r.decoded.value] : []));
    expect(batches.flatMap((b) => b.samples.map((s) => s.seq))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const b of batches) {
      expect(b).toMatchObject({
        deviceId: dev.deviceId,
        userId: dev.userId,
        sessionId,
        sport: 'running',
        source: 'mqtt',
      });
    }
    expect(batches[0]!.samples[0]).toEqual(sample(0, t0));
    await c.endAsync();
    // the connection is recorded as devices.last_seen_at (batched; flushed on close, or here by hand)
    await gw.gateway.flushLastSeen();
    const seen = await gw.pool.query('SELECT last_seen_at FROM devices WHERE id = $1', [dev.deviceId]);
    expect(seen.rows[0]?.last_seen_at).toBeInstanceOf(Date);
  });

  test('MQTT over WebSocket takes the same path', async () => {
    const dev = await gw.device();
    const c = await connect(gw.wsUrl, dev.deviceId, dev.token);
    const sessionId = `ws-${randomUUID()}`;
    await c.publishAsync(
      telemetryTopic(dev.deviceId, 'json'),
      JSON.stringify({ sessionId, sport: 'cycling', samples: [sample(0, Date.now())] }),
      { qos: 1 },
    );
    await c.endAsync();
    const t0 = Date.now();
    while (
      !samples.records.some((r) => r.key === sessionKey(dev.deviceId, sessionId)) &&
      Date.now() - t0 < 5000
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(samples.records.some((r) => r.key === sessionKey(dev.deviceId, sessionId))).toBe(true);
  });

  test('wrong, unknown and revoked credentials are refused; revocation drops a live connection', async () => {
    const dev = await gw.device();
    await expect(connect(gw.url, dev.deviceId, `${dev.token}x`)).rejects.toThrow(/Bad username or password/i);
    await expect(connect(gw.url, `nope-${randomUUID()}`, dev.token)).rejects.toThrow(
      /Bad username or password/i,
    );
    // a client id that belongs to another device is refused
    const other = await gw.device();
    await expect(connect(gw.url, dev.deviceId, dev.token, { clientId: other.deviceId })).rejects.toThrow(
      /Not authorized/i,
    );
    const live = await connect(gw.url, dev.deviceId, dev.token, { clientId: `${dev.deviceId}/phone` });
    const t0 = Date.now();
    await revokeDeviceToken(gw.pool, gw.redis, dev.deviceId);
    await closed(live);
    expect(Date.now() - t0).toBeLessThan(3000);
    await expect(connect(gw.url, dev.deviceId, dev.token)).rejects.toThrow(/Bad username or password/i);
  });

  test('a device publishing under another device id is refused and disconnected; nothing is produced', async () => {
    const a = await gw.device();
    const b = await gw.device();
    const c = await connect(gw.url, a.deviceId, a.token);
    const sessionId = `spoof-${randomUUID()}`;
    const wasClosed = closed(c);
    c.publish(
      telemetryTopic(b.deviceId, 'json'),
      JSON.stringify({ sessionId, sport: 'running', samples: [sample(0, Date.now())] }),
      { qos: 1 },
    );
    await wasClosed;
    await new Promise((r) => setTimeout(r, 300));
    expect(samples.records.some((r) => r.key.endsWith(sessionId))).toBe(false);
    expect(
      dlq.records.some((r) => r.decoded.name === 'DlqRecord' && r.decoded.value.deviceId === a.deviceId),
    ).toBe(false);
    c.end(true);
  });

  test('a device may subscribe to its own command topic only', async () => {
    const a = await gw.device();
    const b = await gw.device();
    const c = await connect(gw.url, a.deviceId, a.token);
    const own = await c.subscribeAsync(commandTopic(a.deviceId), { qos: 1 });
    expect(own[0]?.qos).toBe(1);
    // mqtt.js turns a SUBACK failure (0x80) into a rejection
    await expect(c.subscribeAsync(commandTopic(b.deviceId), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(c.subscribeAsync('v1/devices/#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  test('bad payloads land in the DLQ with their reason, are acknowledged, and the connection stays up', async () => {
    const dev = await gw.device();
    const c = await connect(gw.url, dev.deviceId, dev.token);
    const now = Date.now();
    const sid = `bad-${randomUUID()}`;
    const good = encodeAvro('DeviceTelemetry', {
      sessionId: sid,
      sport: 'running',
      samples: [sample(0, now)],
      sets: [],
    });
    const cases: Array<[string, string, Buffer | string]> = [
      ['malformed_avro', telemetryTopic(dev.deviceId, 'avro'), good.subarray(0, good.length - 3)],
      ['malformed_json', telemetryTopic(dev.deviceId, 'json'), '{"sessionId": "x", "samples": ['],
      [
        'schema_violation',
        telemetryTopic(dev.deviceId, 'json'),
        JSON.stringify({ sessionId: sid, sport: 'running', samples: [{ ...sample(0, now), hr: 'fast' }] }),
      ],
      [
        'invalid_coordinates',
        telemetryTopic(dev.deviceId, 'json'),
        JSON.stringify({ sessionId: sid, sport: 'running', samples: [{ ...sample(0, now), lat: 91.5 }] }),
      ],
      [
        'invalid_coordinates',
        telemetryTopic(dev.deviceId, 'avro'),
        encodeAvro('DeviceTelemetry', {
          sessionId: sid,
          sport: 'running',
          samples: [{ ...sample(0, now), lon: Number.NaN }],
          sets: [],
        }),
      ],
      [
        'hr_out_of_range',
        telemetryTopic(dev.deviceId, 'json'),
        JSON.stringify({ sessionId: sid, sport: 'running', samples: [{ ...sample(0, now), hr: 300 }] }),
      ],
      [
        'timestamp_in_future',
        telemetryTopic(dev.deviceId, 'json'),
        JSON.stringify({ sessionId: sid, sport: 'running', samples: [sample(0, now + 3600_000)] }),
      ],
      [
        'payload_too_large',
        telemetryTopic(dev.deviceId, 'json'),
        JSON.stringify({
          sessionId: sid,
          sport: 'running',
          samples: Array.from({ length: 100 }, (_, i) => sample(i, now)),
        }),
      ],
      ['unknown_topic', `v1/devices/${dev.deviceId}/firmware`, 'hello'],
    ];
    const before = dlq.records.length;
    for (const [, topic, payload] of cases) await c.publishAsync(topic, payload, { qos: 1 });
    await dlq.waitFor(before + cases.length, 5000);
    const mine = dlq.values('DlqRecord').filter((r) => r.deviceId === dev.deviceId);
    expect(mine.map((r) => r.reasonCode)).toEqual(cases.map(([reason]) => reason));
    expect(mine[0]!.original).toEqual(cases[0]![2]);
    expect(mine[0]!.source).toBe(`mqtt:${telemetryTopic(dev.deviceId, 'avro')}`);
    expect(mine.every((r) => r.message.length > 0)).toBe(true);
    // still connected, and a good message still goes through
    expect(c.connected).toBe(true);
    await c.publishAsync(telemetryTopic(dev.deviceId, 'avro'), good, { qos: 1 });
    // acknowledged = in Kafka; the test's consumer may still need a moment to read it
    const t0 = Date.now();
    while (!samples.records.some((r) => r.key === sessionKey(dev.deviceId, sid)) && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(samples.records.some((r) => r.key === sessionKey(dev.deviceId, sid))).toBe(true);
    await c.endAsync();
  });

  test('a packet far above the payload limit closes the connection before it is buffered', async () => {
    const dev = await gw.device();
    const c = await connect(gw.url, dev.deviceId, dev.token);
    const wasClosed = closed(c);
    // limit: 2 x MAX_PAYLOAD_BYTES (8192) + 1 KiB
    c.publish(telemetryTopic(dev.deviceId, 'json'), Buffer.alloc(200_000, 32), { qos: 1 });
    await wasClosed;
    c.end(true);
  });

  test('a connection that keeps sending rejects is closed', async () => {
    const topics2 = await privateTopics(1);
    const strict = await startTestGateway({
      TOPIC_SAMPLES: topics2.samples,
      TOPIC_DLQ: topics2.dlq,
      ABUSE_MAX_REJECTS: '5',
    });
    try {
      const dev = await strict.device();
      const c = await connect(strict.url, dev.deviceId, dev.token);
      const wasClosed = closed(c, 10_000);
      for (let i = 0; i < 10 && c.connected; i++) {
        await Promise.race([
          c.publishAsync(telemetryTopic(dev.deviceId, 'json'), 'not json', { qos: 1 }),
          wasClosed,
        ]);
      }
      await wasClosed;
      c.end(true);
    } finally {
      await strict.close();
      await topics2.drop();
    }
  });
});
