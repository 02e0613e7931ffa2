import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { liveKeys } from '../../schemas/live-keys.js';
import { createLogger } from '../../services/common/logger.js';
import { sessionTopic, telemetryTopic } from '../../services/gateway/topics.js';
import { createS3, type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { computeActivity } from '../../services/worker/compute.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { type Isolated, isolate, rid, rows, waitFor } from '../support/worker.js';

// The whole path: a device publishes over MQTT to the gateway, the gateway produces to Kafka, the
// worker writes ClickHouse, Redis and S3, and the end message yields one activity.
describe('MQTT -> gateway -> Kafka -> worker', () => {
  let iso: Isolated;
  let gw: TestGateway;
  let w: RunningWorker;
  const redis = new Redis('redis://127.0.0.1:6379');

  beforeAll(async () => {
    iso = await isolate();
    gw = await startTestGateway({ TOPIC_SAMPLES: iso.topic, TOPIC_DLQ: iso.dlq });
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
  }, 120_000);
  afterAll(async () => {
    await w?.close();
    await gw?.close();
    await iso?.cleanup();
    redis.disconnect();
  });

  test('published samples reach ClickHouse, Redis and S3; the end message gives one activity', async () => {
    const dev = await gw.device();
    const c = await mqtt.connectAsync(gw.url, {
      protocolVersion: 4,
      clientId: dev.deviceId,
      username: dev.deviceId,
      password: dev.token,
      reconnectPeriod: 0,
    });
    const sessionId = `s-${rid()}`;
    // no injected HR artefacts: the gateway refuses a whole message with an HR of 255 (hr_out_of_range)
    const { samples } = generateSession({
      sport: 'running',
      seed: 11,
      durationS: 300,
      startTs: Date.now() - 3_600_000,
      hrSpikeProbability: 0,
    });
    await c.publishAsync(
      sessionTopic(dev.deviceId),
      JSON.stringify({ sessionId, kind: 'start', sport: 'running', ts: samples[0]!.ts }),
      { qos: 1 },
    );
    for (let i = 0; i < samples.length; i += 30) {
      await c.publishAsync(
        telemetryTopic(dev.deviceId, 'json'),
        JSON.stringify({ sessionId, sport: 'running', samples: samples.slice(i, i + 30) }),
        { qos: 1 },
      );
    }
    await c.publishAsync(
      sessionTopic(dev.deviceId),
      JSON.stringify({ sessionId, kind: 'end', sport: 'running', ts: samples.at(-1)!.ts }),
      { qos: 1 },
    );
    await c.endAsync();

    const db = iso.database;
    const act = await waitFor(async () => {
      const r = await rows<Record<string, unknown>>(
        iso.ch,
        `SELECT * FROM ${db}.activities_v WHERE session_id = '${sessionId}'`,
      );
      return r[0];
    }, 60_000);
    expect(act.user_id).toBe(dev.userId);
    expect(act.device_id).toBe(dev.deviceId);
    expect(Number(act.sample_count)).toBe(samples.length);
    const [s] = await rows<{ n: number; u: number; c: number }>(
      iso.ch,
      `SELECT count() AS n, uniqExact(sample_key) AS u, sum(cleaned) AS c FROM ${db}.samples_v WHERE session_id = '${sessionId}'`,
    );
    expect([Number(s!.n), Number(s!.u), Number(s!.c)]).toEqual([
      samples.length,
      samples.length,
      samples.length,
    ]);
    // The live session's id is the activity's id: what a coach watched opens the finished activity.
    const live = await redis.hgetall(liveKeys.hash(String(act.activity_id)));
    expect(live.activityId).toBe(act.activity_id);
    expect(live.sessionId).toBe(sessionId);
    expect(live.status).toBe('ended');
    expect(Number(live.samples)).toBe(samples.length);
    const s3 = createS3(iso.config);
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: iso.config.S3_BUCKET, Prefix: `${iso.prefix}/data/${iso.topic}/` }),
    );
    expect(listed.KeyCount).toBeGreaterThan(0);
    s3.destroy();
  });
});
