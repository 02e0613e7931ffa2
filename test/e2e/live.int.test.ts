import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { activityIdFor } from '../../pipelines/index.js';
import { liveKeys } from '../../schemas/live-keys.js';
import { buildApp } from '../../services/api/app.js';
import type { ApiDeps } from '../../services/api/deps.js';
import { parseEnv, postgresEnv, redisEnv } from '../../services/common/config.js';
import { createLogger } from '../../services/common/logger.js';
import { createMetricsRegistry } from '../../services/common/metrics.js';
import { type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { computeActivity } from '../../services/worker/compute.js';
import { testAuth, tokenFor } from '../support/api-auth.js';
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
} from '../support/worker.js';

// The live view end to end: Kafka -> worker -> Redis -> the API's live routes and SSE streams, on
// the real local stack. Clients pick their session ids freely, so live sessions must not collide.
describe('live sessions', () => {
  let iso: Isolated;
  let w: RunningWorker;
  let api: FastifyInstance;
  let auth: ApiDeps['auth'];
  /** the Authorization header of an athlete that exists only as an id in the telemetry */
  const as = async (userId: string) => ({ authorization: `Bearer ${await tokenFor(auth.tokens, userId)}` });
  const redis = new Redis(parseEnv(redisEnv).REDIS_URL);
  const subs: Redis[] = [];
  const pool = new pg.Pool({ connectionString: parseEnv(postgresEnv).DATABASE_URL, max: 1 });
  const open = new Set<() => Promise<void>>();

  beforeAll(async () => {
    iso = await isolate();
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
    auth = await testAuth();
    api = await buildApp({
      logger: createLogger('api-test', 'silent'),
      registry: createMetricsRegistry('live_test'),
      rateLimitPerMinute: 1000,
      bodyLimitBytes: 64 * 1024,
      checks: [],
      deps: {
        pg: pool,
        redis,
        redisSub: () => {
          const r = redis.duplicate();
          subs.push(r);
          return r;
        },
        clickhouse: iso.ch,
        clickhouseDatabase: iso.database,
        mqttPublicUrl: 'mqtt://127.0.0.1:1883',
        auth,
      },
    });
    await api.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    // An open SSE response holds api.close() until its client goes (a failed test leaves them open).
    for (const close of open) await close();
    await api?.close();
    await w?.close();
    await iso?.cleanup();
    await pool.end();
    redis.disconnect();
    for (const s of subs) s.disconnect();
  });

  /** Collects the snapshots of an SSE stream of the API until `close()`. */
  const sse = async (path: string, userId: string) => {
    const ctrl = new AbortController();
    const { port } = api.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: ctrl.signal,
      headers: await as(userId),
    });
    expect(res.status).toBe(200);
    const events: Record<string, unknown>[] = [];
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const done = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
          let i = text.indexOf('\n\n');
          while (i >= 0) {
            const data = /^data: (.*)$/m.exec(text.slice(0, i));
            if (data) events.push(JSON.parse(data[1]!));
            text = text.slice(i + 2);
            i = text.indexOf('\n\n');
          }
        }
      } catch {
        // aborted by close()
      }
    })();
    const close = async () => {
      ctrl.abort();
      await done;
      open.delete(close);
    };
    open.add(close);
    return { events, close };
  };

  test('two athletes with the same client session id get separate live sessions and streams', async () => {
    const sessionId = '1'; // what a simple client sends; ids of other tests' sessions may be '1' too
    const a = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId };
    const b = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId };
    const idA = activityIdFor(a.userId, a.deviceId, sessionId);
    const idB = activityIdFor(b.userId, b.deviceId, sessionId);
    expect(idA).not.toBe(idB);
    // Two runs 600 km apart, so a position from the wrong athlete cannot pass for the right one.
    const runA = generateSession({
      sport: 'running',
      seed: 11,
      durationS: 240,
      start: { lat: 46.5, lon: 6.6 },
    });
    const runB = generateSession({
      sport: 'running',
      seed: 12,
      durationS: 240,
      start: { lat: 52.5, lon: 13.4 },
    });

    const streams = {
      a: await sse(`/v1/live/sessions/${idA}/stream`, a.userId),
      b: await sse(`/v1/live/sessions/${idB}/stream`, b.userId),
      userA: await sse(`/v1/live/users/${a.userId}/stream`, a.userId),
    };

    // Interleaved, as two athletes streaming at the same time.
    const recs: Outbound[] = [
      { name: 'SessionControl', value: controlOf(a, 'start', runA.samples[0]!.ts) },
      { name: 'SessionControl', value: controlOf(b, 'start', runB.samples[0]!.ts) },
    ];
    for (let i = 0; i < Math.max(runA.samples.length, runB.samples.length); i += 20) {
      recs.push({ name: 'TelemetryBatch', value: batchOf(a, runA.samples.slice(i, i + 20)) });
      recs.push({ name: 'TelemetryBatch', value: batchOf(b, runB.samples.slice(i, i + 20)) });
    }
    await produce(iso, recs);

    const live = await waitFor(async () => {
      const [ha, hb] = await Promise.all([
        redis.hgetall(liveKeys.hash(idA)),
        redis.hgetall(liveKeys.hash(idB)),
      ]);
      return Number(ha.samples) === runA.samples.length && Number(hb.samples) === runB.samples.length
        ? { a: ha, b: hb }
        : null;
    }, 60_000);
    expect([live.a.activityId, live.a.userId, live.a.deviceId, live.a.sessionId]).toEqual([
      idA,
      a.userId,
      a.deviceId,
      sessionId,
    ]);
    expect([live.b.activityId, live.b.userId, live.b.deviceId, live.b.sessionId]).toEqual([
      idB,
      b.userId,
      b.deviceId,
      sessionId,
    ]);
    const lastLat = (r: typeof runA) => r.samples.filter((s) => s.lat !== null).at(-1)!.lat!;
    expect(Math.abs(Number(live.a.lat) - lastLat(runA))).toBeLessThan(0.01);
    expect(Math.abs(Number(live.b.lat) - lastLat(runB))).toBeLessThan(0.01);

    // The API: each id opens its own athlete's session, and each athlete's list carries the id to open.
    const got = async (id: string, userId: string) =>
      api.inject({ method: 'GET', url: `/v1/live/sessions/${id}`, headers: await as(userId) });
    expect((await got(idA, a.userId)).json()).toMatchObject({
      activity_id: idA,
      user_id: a.userId,
      samples: runA.samples.length,
    });
    expect((await got(idB, b.userId)).json()).toMatchObject({
      activity_id: idB,
      user_id: b.userId,
      samples: runB.samples.length,
    });
    const list = async (u: string) =>
      api.inject({ method: 'GET', url: `/v1/live/users/${u}/sessions`, headers: await as(u) });
    expect((await list(a.userId)).json().items.map((s: { activity_id: string }) => s.activity_id)).toEqual([
      idA,
    ]);
    expect((await list(b.userId)).json().items.map((s: { activity_id: string }) => s.activity_id)).toEqual([
      idB,
    ]);

    // Each stream carried its own session's snapshots up to the last sample, and nothing of the other's.
    await waitFor(async () =>
      [
        [streams.a, runA],
        [streams.b, runB],
        [streams.userA, runA],
      ].every(([s, r]) =>
        (s as typeof streams.a).events.some((e) => e.samples === (r as typeof runA).samples.length),
      ),
    );
    for (const s of Object.values(streams)) await s.close();
    expect(streams.a.events.length).toBeGreaterThan(0);
    expect(streams.b.events.length).toBeGreaterThan(0);
    for (const e of [...streams.a.events, ...streams.userA.events]) {
      expect([e.activity_id, e.user_id]).toEqual([idA, a.userId]);
      if (e.lat !== null) expect(Math.abs((e.lat as number) - 46.5)).toBeLessThan(1);
    }
    for (const e of streams.b.events) {
      expect([e.activity_id, e.user_id]).toEqual([idB, b.userId]);
      if (e.lat !== null) expect(Math.abs((e.lat as number) - 52.5)).toBeLessThan(1);
    }
  });

  test('samples that arrive after the end do not bring the session back to life', async () => {
    const ids = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
    const id = activityIdFor(ids.userId, ids.deviceId, ids.sessionId);
    const { samples } = generateSession({ sport: 'running', seed: 13, durationS: 180 });
    const cut = samples.length - 40;
    const recs: Outbound[] = [{ name: 'SessionControl', value: controlOf(ids, 'start', samples[0]!.ts) }];
    for (let i = 0; i < cut; i += 20) {
      recs.push({ name: 'TelemetryBatch', value: batchOf(ids, samples.slice(i, Math.min(i + 20, cut))) });
    }
    // The end overtook the last 40 samples (as a bridge's shared subscription may reorder them).
    recs.push({ name: 'SessionControl', value: controlOf(ids, 'end', samples.at(-1)!.ts) });
    await produce(iso, recs);
    const ended = await waitFor(async () => {
      const h = await redis.hgetall(liveKeys.hash(id));
      return h.status === 'ended' ? h : null;
    });
    expect(Number(ended.samples)).toBe(cut);

    const stream = await sse(`/v1/live/users/${ids.userId}/stream`, ids.userId);
    await waitFor(
      async () => stream.events.length > 0 || (await redis.zcard(liveKeys.active(ids.userId))) === 0,
    );
    const before = stream.events.length;
    await produce(iso, [
      { name: 'TelemetryBatch', value: batchOf(ids, samples.slice(cut, cut + 20)) },
      { name: 'TelemetryBatch', value: batchOf(ids, samples.slice(cut + 20)) },
    ]);
    // The late samples are stored (the activity is finalised again with all of them) ...
    await waitFor(async () => {
      const r = await rows<{ n: number }>(
        iso.ch,
        `SELECT sample_count AS n FROM ${iso.database}.activities_v WHERE activity_id = '${id}' ORDER BY version DESC LIMIT 1`,
      );
      return Number(r[0]?.n) === samples.length;
    }, 60_000);
    // ... after the worker flushed them, and the live view still shows the ended session, off the active list.
    await new Promise((r) => setTimeout(r, 1000));
    await stream.close();
    expect(await redis.hgetall(liveKeys.hash(id))).toEqual(ended);
    expect(await redis.zrange(liveKeys.active(ids.userId), 0, -1)).toEqual([]);
    const list = await api.inject({
      method: 'GET',
      url: `/v1/live/users/${ids.userId}/sessions`,
      headers: await as(ids.userId),
    });
    expect(list.json().items).toEqual([]);
    expect(stream.events.slice(before)).toEqual([]);
  });
});
