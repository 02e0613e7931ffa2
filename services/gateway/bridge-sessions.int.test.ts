// Bridge mode across a lost connection to the external broker while acknowledgements wait for Kafka: the gateway
// reaches the local Mosquitto through a TCP hop the test cuts, and Kafka is frozen (test/support/kafka-freeze.ts)
// so that every PUBACK is still held when the connection goes. A 10k-workout load run's gateway died here: mqtt.js
// queued the held PUBACKs for the next connection and replayed its queue recursively on reconnect (stack
// overflow).
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, describe, expect, test } from 'vitest';
import { privateTopics, STACK, startTestGateway, TopicReader } from '../../test/support/gateway.js';
import { canFreezeKafka, withKafkaFrozen } from '../../test/support/kafka-freeze.js';
import { tcpProxy } from '../../test/support/tcp-proxy.js';
import type { GatewayMetrics } from './metrics.js';
import { telemetryTopic } from './topics.js';

const total = async (c: GatewayMetrics['messagesIn'] | GatewayMetrics['messagesOut']): Promise<number> =>
  (await c.get()).values.reduce((n, v) => n + v.value, 0);

async function until(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('bridge mode: sessions on the external broker', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => {});
  });

  test.skipIf(!canFreezeKafka)(
    'connection lost while PUBACKs wait for Kafka: held PUBACKs are dropped with it; the broker resends, and every message is acknowledged',
    async () => {
      const topics = await privateTopics();
      cleanup.push(() => topics.drop());
      const proxy = await tcpProxy(Number(new URL(STACK.mosquitto).port));
      cleanup.push(() => proxy.close());
      const group = `gwre-${randomUUID().slice(0, 8)}`;
      const env = {
        GATEWAY_MODE: 'bridge',
        BRIDGE_SHARE_GROUP: group,
        BRIDGE_CLIENT_ID: `${group}-1`,
        BRIDGE_RECEIVE_MAXIMUM: '5000',
        TOPIC_SAMPLES: topics.samples,
        TOPIC_DLQ: topics.dlq,
        KAFKA_REQUEST_TIMEOUT_MS: '2000',
      };
      const gw = await startTestGateway({ ...env, BRIDGE_URL: `mqtt://127.0.0.1:${proxy.port}` });
      let gwOpen = true;
      cleanup.push(() => (gwOpen ? gw.close() : Promise.resolve()));
      await gw.gateway.bridge!.ready;
      const reader = new TopicReader(topics.samples);
      await reader.start();
      cleanup.push(() => reader.stop());
      const dev = await gw.device();
      const device = await mqtt.connectAsync(STACK.mosquitto, {
        protocolVersion: 5,
        clientId: dev.deviceId,
        reconnectPeriod: 0,
      });
      cleanup.push(() => device.endAsync());

      const N = 3000;
      const t0 = Date.now() - 3_600_000;
      await withKafkaFrozen(async () => {
        // Mosquitto acknowledges the device; the gateway takes every message and holds its PUBACK for Kafka
        await Promise.all(
          Array.from({ length: N }, (_, i) =>
            device.publishAsync(
              telemetryTopic(dev.deviceId, 'json'),
              JSON.stringify({
                sessionId: 'reconnect',
                sport: 'running',
                samples: [{ ts: t0 + i * 1000, seq: i, lat: 46.5, lon: 6.6, hr: 140 }],
              }),
              { qos: 1 },
            ),
          ),
        );
        await until(
          'the gateway to take every message',
          async () => (await total(gw.gateway.metrics.messagesIn)) >= N,
          8_000,
        );
        await proxy.cut();
      });
      // Kafka is back: the held acknowledgements come due while there is no connection to send them on
      await until(
        'Kafka to acknowledge the first copies',
        async () => (await total(gw.gateway.metrics.messagesOut)) >= N,
        30_000,
      );
      await proxy.restore();
      // the resumed session resends every unacknowledged message; the gateway produces and acknowledges them
      await until(
        'the resent copies',
        async () => (await total(gw.gateway.metrics.messagesOut)) >= 2 * N,
        30_000,
      );
      await reader.waitFor(N, 10_000);
      const seqs = new Set(
        reader.records.flatMap((r) =>
          r.decoded.name === 'TelemetryBatch' ? r.decoded.value.samples.map((s) => s.seq) : [],
        ),
      );
      expect(seqs.size).toBe(N);
      expect(gw.gateway.bridge!.connected).toBe(true);

      // nothing is left unacknowledged: a gateway that resumes the session afterwards is sent nothing
      await gw.close();
      gwOpen = false;
      const next = await startTestGateway({ ...env, BRIDGE_URL: STACK.mosquitto });
      cleanup.push(async () => {
        await next.close();
        // end the persistent session so Mosquitto keeps nothing for it
        const c = await mqtt.connectAsync(STACK.mosquitto, {
          protocolVersion: 5,
          clientId: env.BRIDGE_CLIENT_ID,
          clean: true,
          reconnectPeriod: 0,
        });
        await c.endAsync();
      });
      await next.gateway.bridge!.ready;
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await total(next.gateway.metrics.messagesIn)).toBe(0);
    },
    120_000,
  );

  test('a replica that stops leaves the group: the others take every later message, and its session ends', async () => {
    const topics = await privateTopics();
    cleanup.push(() => topics.drop());
    const group = `gwleave-${randomUUID().slice(0, 8)}`;
    const env = (n: number) => ({
      GATEWAY_MODE: 'bridge',
      BRIDGE_URL: STACK.mosquitto,
      BRIDGE_SHARE_GROUP: group,
      BRIDGE_CLIENT_ID: `${group}-${n}`,
      TOPIC_SAMPLES: topics.samples,
      TOPIC_DLQ: topics.dlq,
    });
    const [a, b] = await Promise.all([startTestGateway(env(1)), startTestGateway(env(2))]);
    const open = new Set([a, b]);
    cleanup.push(async () => {
      for (const g of open) await g.close();
    });
    await Promise.all([a.gateway.bridge!.ready, b.gateway.bridge!.ready]);
    const dev = await b.device();
    const device = await mqtt.connectAsync(STACK.mosquitto, {
      protocolVersion: 5,
      clientId: dev.deviceId,
      reconnectPeriod: 0,
    });
    cleanup.push(() => device.endAsync());
    const t0 = Date.now() - 3_600_000;
    const publish = (from: number, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, k) =>
          device.publishAsync(
            telemetryTopic(dev.deviceId, 'json'),
            JSON.stringify({
              sessionId: 'leave',
              sport: 'running',
              samples: [{ ts: t0 + (from + k) * 1000, seq: from + k, lat: 46.5, lon: 6.6, hr: 140 }],
            }),
            { qos: 1 },
          ),
        ),
      );
    const out = async (g: typeof a) => total(g.gateway.metrics.messagesOut);
    // both replicas take a share while both are up
    await publish(0, 100);
    await until('the first 100 in Kafka', async () => (await out(a)) + (await out(b)) >= 100, 20_000);
    expect(await out(a)).toBeGreaterThan(0);

    await a.close();
    open.delete(a);
    const before = await out(b);
    await publish(100, 200);
    // every later message goes to the replica still running (Mosquitto would queue a share for a member
    // offline with a persistent session)
    await until(
      'the later 200 through the other replica',
      async () => (await out(b)) - before >= 200,
      20_000,
    );
    // and the stopped replica's session is gone: resumed under its id, it is sent nothing
    const again = await startTestGateway(env(1));
    open.add(again);
    await again.gateway.bridge!.ready;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await total(again.gateway.metrics.messagesIn)).toBe(0);
  }, 60_000);
});
