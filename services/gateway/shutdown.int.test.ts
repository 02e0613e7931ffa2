import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Sample } from '../../schemas/types.js';
import {
  privateTopics,
  startTestGateway,
  type TestGateway,
  TopicReader,
} from '../../test/support/gateway.js';
import { sample as sampleAt } from '../../test/support/samples.js';
import { DeviceClient } from './device-client.js';
import { sessionKey } from './ingest.js';

// The real entry point (main.ts) in a child process: SIGTERM while devices stream must lose nothing that
// was acknowledged, and after a restart the devices' resends complete the sessions.
const port = 21000 + Math.floor(Math.random() * 2000);

function startMain(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/gateway/main.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 30_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes('gateway started')) {
        clearTimeout(t);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${out}`)));
  });
}

const sample = (t0: number, seq: number): Sample =>
  sampleAt(seq, { lat: 59.33 + seq * 1e-5, lon: 18.06, hr: 150 }, t0);

describe('graceful shutdown of the gateway process', () => {
  let topics: Awaited<ReturnType<typeof privateTopics>>;
  let reader: TopicReader;
  let helper: TestGateway; // only for device registration and cleanup

  beforeAll(async () => {
    topics = await privateTopics();
    helper = await startTestGateway({ TOPIC_SAMPLES: topics.samples, TOPIC_DLQ: topics.dlq });
    reader = new TopicReader(topics.samples);
    await reader.start();
  });
  afterAll(async () => {
    await reader?.stop();
    await helper?.close();
    await topics?.drop();
  });

  test('SIGTERM: every acknowledged message is in Kafka; resends after a restart complete the sessions', async () => {
    const env = {
      MQTT_PORT: String(port),
      MQTT_WS_PORT: String(port + 1),
      OPS_PORT: String(port + 2),
      GATEWAY_HOST: '127.0.0.1',
      OPS_HOST: '127.0.0.1',
      TOPIC_SAMPLES: topics.samples,
      TOPIC_DLQ: topics.dlq,
      LOG_LEVEL: 'info',
    };
    let gw = await startMain(env);
    const devs = await Promise.all([0, 1, 2].map(() => helper.device()));
    const clients = devs.map(
      (d) =>
        new DeviceClient({
          url: `mqtt://127.0.0.1:${port}`,
          deviceId: d.deviceId,
          token: d.token,
          reconnectMs: 200,
        }),
    );
    await Promise.all(clients.map((c) => c.connect()));
    const sessionId = `term-${randomUUID()}`;
    const t0 = Date.now() - 3_600_000;
    const acked = devs.map(() => new Set<number>());
    const sent = devs.map(() => new Set<number>());
    let seq = 0;
    let sending = true;
    const loop = (async () => {
      while (sending) {
        clients.forEach((c, k) => {
          const s = seq;
          sent[k]!.add(s);
          c.sendSamples(sessionId, 'running', [sample(t0, s)]).then(
            () => acked[k]!.add(s),
            () => {},
          );
        });
        seq++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    const exited = new Promise<number | null>((r) => gw.once('exit', (code) => r(code)));
    gw.kill('SIGTERM');
    expect(await exited).toBe(0);
    const ackedAtExit = acked.map((s) => new Set(s));
    expect(ackedAtExit.every((s) => s.size > 0)).toBe(true);

    const seqsInKafka = async (deviceId: string) => {
      const t = Date.now();
      let last = -1;
      for (;;) {
        const got = new Set(
          reader.records
            .filter((r) => r.key === sessionKey(deviceId, sessionId))
            .flatMap((r) =>
              r.decoded.name === 'TelemetryBatch' ? r.decoded.value.samples.map((s) => s.seq ?? -1) : [],
            ),
        );
        if (got.size === last || Date.now() - t > 15_000) return got;
        last = got.size;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    for (let k = 0; k < devs.length; k++) {
      const inKafka = await seqsInKafka(devs[k]!.deviceId);
      const missing = [...ackedAtExit[k]!].filter((s) => !inKafka.has(s));
      expect(missing).toEqual([]);
    }

    // restart: the clients reconnect and resend what was never acknowledged
    gw = await startMain(env);
    await new Promise((r) => setTimeout(r, 500));
    sending = false;
    await loop;
    await Promise.all(clients.map((c) => c.flush()));
    for (let k = 0; k < devs.length; k++) {
      const inKafka = await seqsInKafka(devs[k]!.deviceId);
      expect(inKafka.size).toBe(sent[k]!.size);
    }
    for (const c of clients) await c.close();
    const exited2 = new Promise((r) => gw.once('exit', r));
    gw.kill('SIGTERM');
    await exited2;
  });
});
