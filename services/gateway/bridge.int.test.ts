import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeAvro } from '../../schemas/avro.js';
import { emptySample } from '../../schemas/sample.js';
import {
  privateTopics,
  STACK,
  startTestGateway,
  type TestGateway,
  TopicReader,
} from '../../test/support/gateway.js';
import { revokeDeviceToken } from '../common/device-tokens.js';
import { sessionKey } from './ingest.js';
import { sessionTopic, telemetryTopic } from './topics.js';

// Bridge mode through the local Mosquitto (MQTT 5): two gateway replicas in one shared-subscription group
// split the messages; devices publish with MQTT 5 to Mosquitto, never to the gateway.
describe('bridge mode (MQTT 5 through Mosquitto, shared subscription)', () => {
  let topics: Awaited<ReturnType<typeof privateTopics>>;
  let replicas: TestGateway[] = [];
  let samples: TopicReader;
  let dlq: TopicReader;
  const group = `gwtest-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    topics = await privateTopics();
    replicas = await Promise.all(
      [1, 2].map((n) =>
        startTestGateway({
          GATEWAY_MODE: 'bridge',
          BRIDGE_URL: STACK.mosquitto,
          BRIDGE_SHARE_GROUP: group,
          BRIDGE_CLIENT_ID: `${group}-${n}`,
          TOPIC_SAMPLES: topics.samples,
          TOPIC_DLQ: topics.dlq,
        }),
      ),
    );
    await Promise.all(replicas.map((r) => r.gateway.bridge?.ready));
    samples = new TopicReader(topics.samples);
    dlq = new TopicReader(topics.dlq);
    await Promise.all([samples.start(), dlq.start()]);
  });

  afterAll(async () => {
    await Promise.all([samples?.stop(), dlq?.stop()]);
    for (const r of replicas) await r.close();
    await topics?.drop();
  });

  const deviceClient = (deviceId: string): Promise<MqttClient> =>
    mqtt.connectAsync(STACK.mosquitto, { protocolVersion: 5, clientId: deviceId, reconnectPeriod: 0 });

  test('MQTT 5 devices reach Kafka through Mosquitto; replicas split the load; records carry the owner', async () => {
    const devs = await Promise.all([0, 1, 2, 3].map(() => replicas[0]!.device()));
    const clients = await Promise.all(devs.map((d) => deviceClient(d.deviceId)));
    const sessionId = `br-${randomUUID()}`;
    const t0 = Date.now() - 120_000;
    const PER = 20;
    await Promise.all(
      clients.map(async (c, k) => {
        const id = devs[k]!.deviceId;
        await c.publishAsync(
          sessionTopic(id),
          JSON.stringify({ sessionId, kind: 'start', sport: 'walking', ts: t0 }),
          {
            qos: 1,
          },
        );
        for (let i = 0; i < PER; i++) {
          const s = { ts: t0 + i * 1000, seq: i, lat: 40.4 + i * 1e-5, lon: -3.7, hr: 100 + i };
          await c.publishAsync(
            telemetryTopic(id, i % 2 ? 'avro' : 'json'),
            i % 2
              ? encodeAvro('DeviceTelemetry', {
                  sessionId,
                  sport: 'walking',
                  samples: [{ ...emptySample(s.ts, s.seq), ...s }],
                  sets: [],
                })
              : JSON.stringify({ sessionId, sport: 'walking', samples: [s] }),
            { qos: 1 },
          );
        }
      }),
    );
    const expected = devs.length * (PER + 1);
    await samples.waitFor(expected, 20_000);
    for (const d of devs) {
      const mine = samples.records.filter((r) => r.key === sessionKey(d.deviceId, sessionId));
      expect(mine).toHaveLength(PER + 1);
      // one session control among them; NOT necessarily first: a shared subscription spreads one device's
      // messages over the replicas (Mosquitto: round robin), so order across replicas is not kept
      expect(mine.filter((r) => r.decoded.name === 'SessionControl')).toHaveLength(1);
      const seqs = mine.flatMap((r) =>
        r.decoded.name === 'TelemetryBatch' ? r.decoded.value.samples.map((s) => s.seq) : [],
      );
      expect(new Set(seqs).size).toBe(PER);
      for (const r of mine) expect(r.decoded.value).toMatchObject({ deviceId: d.deviceId, userId: d.userId });
    }
    // both replicas took a share
    const perReplica = await Promise.all(
      replicas.map(async (r) =>
        (await r.gateway.metrics.messagesOut.get()).values.reduce((n, v) => n + v.value, 0),
      ),
    );
    expect(perReplica.every((n) => n > 0)).toBe(true);
    for (const c of clients) await c.endAsync();
  });

  test('one session split over both replicas arrives complete, each sample once, in whatever order', async () => {
    const dev = await replicas[0]!.device();
    const c = await deviceClient(dev.deviceId);
    const sessionId = `split-${randomUUID()}`;
    const t0 = Date.now() - 600_000;
    const N = 60;
    const out = () =>
      Promise.all(
        replicas.map(async (r) =>
          (await r.gateway.metrics.messagesOut.get()).values.reduce((n, v) => n + v.value, 0),
        ),
      );
    const before = await out();
    // what a device client does after a reconnect: the whole backlog in flight at once (start, samples, end)
    const control = (kind: string, ts: number) =>
      c.publishAsync(sessionTopic(dev.deviceId), JSON.stringify({ sessionId, kind, sport: 'running', ts }), {
        qos: 1,
      });
    await Promise.all([
      control('start', t0),
      ...Array.from({ length: N }, (_, i) =>
        c.publishAsync(
          telemetryTopic(dev.deviceId, 'json'),
          JSON.stringify({
            sessionId,
            sport: 'running',
            samples: [0, 1].map((j) => ({
              ts: t0 + (2 * i + j) * 1000,
              seq: 2 * i + j,
              lat: 52.5,
              lon: 13.4,
            })),
          }),
          { qos: 1 },
        ),
      ),
      control('end', t0 + 2 * N * 1000),
    ]);
    const key = sessionKey(dev.deviceId, sessionId);
    const mine = () => samples.records.filter((r) => r.key === key);
    const t1 = Date.now();
    while (mine().length < N + 2 && Date.now() - t1 < 20_000) await new Promise((r) => setTimeout(r, 50));
    const records = mine();
    // the session's messages went through both replicas (only this test publishes now)
    const after = await out();
    const share = after.map((n, k) => n - before[k]!);
    expect(share.reduce((a, b) => a + b, 0)).toBe(N + 2);
    expect(share.every((n) => n > 0)).toBe(true);
    // all on the session's partition, each message once, every sample present
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);
    expect(records).toHaveLength(N + 2);
    const seqs = records.flatMap((r) =>
      r.decoded.name === 'TelemetryBatch' ? r.decoded.value.samples.map((s) => s.seq) : [],
    );
    expect([...seqs].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 2 * N }, (_, i) => i));
    const kinds = records.flatMap((r) => (r.decoded.name === 'SessionControl' ? [r.decoded.value.kind] : []));
    expect(kinds.sort()).toEqual(['end', 'start']);
    // Kafka order is the order the replicas' produce calls completed, not the device's: count the inversions
    // (reported, not asserted: whether any happen depends on timing)
    const firstSeqs = records.flatMap((r) =>
      r.decoded.name === 'TelemetryBatch' ? [r.decoded.value.samples[0]!.seq!] : [],
    );
    const inversions = firstSeqs.filter((s, i) => i > 0 && s < firstSeqs[i - 1]!).length;
    const endAt = records.findIndex(
      (r) => r.decoded.name === 'SessionControl' && r.decoded.value.kind === 'end',
    );
    console.info(
      `split session: replicas ${share.join('/')}, ${inversions} order inversions, end at position ${endAt + 1} of ${records.length}`,
    );
    await c.endAsync();
  });

  test('unknown devices, bad payloads and a mislabelled MQTT 5 content type go to the DLQ', async () => {
    const dev = await replicas[0]!.device();
    const stranger = `stranger-${randomUUID()}`;
    const c = await deviceClient(dev.deviceId);
    const s = await deviceClient(stranger);
    await s.publishAsync(
      telemetryTopic(stranger, 'json'),
      JSON.stringify({ sessionId: 'x', sport: 'running', samples: [] }),
      {
        qos: 1,
      },
    );
    await c.publishAsync(
      telemetryTopic(dev.deviceId, 'json'),
      JSON.stringify({
        sessionId: 'y',
        sport: 'running',
        samples: [{ ts: Date.now(), seq: 1, lat: 0.5, lon: 200, hr: 90 }],
      }),
      { qos: 1 },
    );
    await c.publishAsync(
      telemetryTopic(dev.deviceId, 'avro'),
      JSON.stringify({
        sessionId: 'z',
        sport: 'running',
        samples: [{ ts: Date.now(), seq: 1, lat: 1, lon: 1 }],
      }),
      { qos: 1, properties: { contentType: 'application/json' } },
    );
    const t0 = Date.now();
    const reasons = () =>
      dlq
        .values('DlqRecord')
        .filter((r) => r.deviceId === stranger || r.deviceId === dev.deviceId)
        .map((r) => `${r.deviceId === stranger ? 'stranger' : 'device'}:${r.reasonCode}`)
        .sort();
    while (reasons().length < 3 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(reasons()).toEqual([
      'device:content_type_mismatch',
      'device:invalid_coordinates',
      'stranger:unauthorized',
    ]);
    await c.endAsync();
    await s.endAsync();
  });
  test('a revoked device is refused at once, although owners are cached for a minute', async () => {
    expect(replicas[0]!.config.BRIDGE_OWNER_CACHE_MS).toBeGreaterThanOrEqual(60_000);
    const dev = await replicas[0]!.device();
    const c = await deviceClient(dev.deviceId);
    const sessionId = `rv-${randomUUID()}`;
    const send = (seq: number) =>
      c.publishAsync(
        telemetryTopic(dev.deviceId, 'json'),
        JSON.stringify({ sessionId, sport: 'running', samples: [{ ts: Date.now(), seq, lat: 1, lon: 1 }] }),
        { qos: 1 },
      );
    // enough messages that both replicas (round robin) have looked the owner up and cached it
    for (let seq = 0; seq < 6; seq++) await send(seq);
    const mine = () => samples.records.filter((r) => r.key === sessionKey(dev.deviceId, sessionId));
    const t0 = Date.now();
    while (mine().length < 6 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(mine()).toHaveLength(6);

    await revokeDeviceToken(replicas[0]!.pool, replicas[0]!.redis, dev.deviceId);
    await new Promise((r) => setTimeout(r, 300)); // the revocation's pub/sub message reaches both replicas
    for (let seq = 6; seq < 10; seq++) await send(seq);
    const refused = () =>
      dlq.values('DlqRecord').filter((r) => r.deviceId === dev.deviceId && r.reasonCode === 'unauthorized');
    const t1 = Date.now();
    while (refused().length < 4 && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(refused()).toHaveLength(4);
    expect(mine()).toHaveLength(6);
    await c.endAsync();
  });
});
