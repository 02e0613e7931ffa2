import { Redis } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { activityIdFor } from '../../pipelines/index.js';
import { liveKeys } from '../../schemas/live-keys.js';
import { batchOf, controlOf, isolate, rid } from '../../test/support/worker.js';
import { createClickHouse, createS3 } from './app.js';
import type { LiveSnapshot } from './live.js';
import type { FlushBatch, Sink } from './ports.js';
import type { InboundRecord } from './records.js';
import { ClickHouseStore } from './sink-clickhouse.js';
import { S3Archive } from './sink-s3.js';
import { type LiveStore, RedisLiveStore } from './store-redis.js';

// The port contracts, run against every implementation's real backend. A Sink acknowledges by
// resolving and is idempotent: the same or an overlapping batch written again reads back the same.

function batch(tag: string, from: number, to: number): FlushBatch {
  const ids = { userId: `u-${tag}`, deviceId: `d-${tag}`, sessionId: `s-${tag}` };
  const records: InboundRecord[] = [];
  for (let i = from; i < to; i++) {
    const raw = {
      topic: 'contract',
      partition: 0,
      offset: String(i),
      key: Buffer.from(ids.sessionId),
      value: Buffer.from([0, i & 255]),
      timestamp: 1_760_000_000_000 + i * 1000,
    };
    const decoded =
      i % 10 === 9
        ? ({ kind: 'control', control: controlOf(ids, 'lap', raw.timestamp) } as const)
        : ({
            kind: 'batch',
            batch: batchOf(ids, [
              {
                ts: raw.timestamp,
                seq: i,
                lat: 46.5 + i * 1e-5,
                lon: 6.6,
                alt: 400,
                acc: 3,
                speed: 3,
                dist: i * 3,
                hr: 140,
                cadence: 170,
                power: null,
                lap: false,
              },
            ]),
          } as const);
    records.push({ raw, decoded });
  }
  return { raw: records.map((r) => r.raw), records };
}

interface SinkUnderTest {
  sink: Sink;
  readBack(tag: string): Promise<unknown>;
  cleanup(): Promise<void>;
}

function sinkContract(name: string, make: () => Promise<SinkUnderTest>) {
  describe(`Sink contract: ${name}`, () => {
    let s: SinkUnderTest;
    afterAll(async () => {
      await s?.sink.close();
      await s?.cleanup();
    });

    test('an empty batch is acknowledged', async () => {
      s = await make();
      await s.sink.writeBatch({ raw: [], records: [] });
    });

    test('the same batch twice, and an overlapping one, read back exactly like one clean write', async () => {
      const a = rid();
      const b = rid();
      await s.sink.writeBatch(batch(a, 0, 40));
      const once = await s.readBack(a);
      await s.sink.writeBatch(batch(b, 0, 25));
      await s.sink.writeBatch(batch(b, 0, 25));
      await s.sink.writeBatch(batch(b, 10, 40));
      const again = await s.readBack(b);
      expect(JSON.stringify(again).replaceAll(b, 'X')).toEqual(JSON.stringify(once).replaceAll(a, 'X'));
    });
  });
}

sinkContract('ClickHouseStore', async () => {
  const iso = await isolate();
  const store = new ClickHouseStore(createClickHouse(iso.config), iso.database);
  return {
    sink: store,
    readBack: (tag) =>
      store.readSession({
        userId: `u-${tag}`,
        deviceId: `d-${tag}`,
        sessionId: `s-${tag}`,
        sport: 'running',
      }),
    cleanup: () => iso.cleanup(),
  };
});

sinkContract('S3Archive', async () => {
  const iso = await isolate();
  const make = (tag?: string) =>
    new S3Archive(createS3(iso.config), {
      bucket: iso.config.S3_BUCKET,
      prefix: `${iso.prefix}/${tag ?? ''}`,
      windowS: 60,
    });
  let current = make();
  // each tag gets its own prefix, so the read-back sees only that tag's objects
  const sink: Sink = {
    name: 's3',
    async writeBatch(b) {
      const tag = (b.records[0]?.decoded.kind === 'batch' ? b.records[0].decoded.batch.sessionId : '').slice(
        2,
      );
      current = make(tag);
      await current.writeBatch(b);
    },
    close: async () => current.close(),
  };
  return {
    sink,
    async readBack(tag) {
      const archive = make(tag);
      const seen = new Map<string, string>();
      for (const m of await archive.listManifests()) {
        for (const r of await archive.readObject(m))
          seen.set(
            `${r.partition}@${r.offset}`,
            `${r.key?.toString()}:${r.value?.toString('hex')}:${r.timestamp}`,
          );
      }
      return [...seen.entries()].sort();
    },
    cleanup: () => iso.cleanup(),
  };
});

function liveContract(name: string, make: () => Promise<{ store: LiveStore; redis: Redis }>) {
  describe(`LiveStore contract: ${name}`, () => {
    test('latest snapshot per session, active set, expiry, and messages on both channels', async () => {
      const { store, redis } = await make();
      const sub = redis.duplicate();
      const got: string[] = [];
      const userId = `u-${rid()}`;
      const sessionId = `s-${rid()}`;
      const s: LiveSnapshot = {
        activityId: activityIdFor(userId, 'd', sessionId),
        userId,
        deviceId: 'd',
        sessionId,
        sport: 'running',
        status: 'active',
        ts: 1000,
        lat: 46.5,
        lon: null,
        hr: 150,
        speedMps: 3,
        paceSPerKm: 333,
        distanceM: 12.5,
        elapsedS: 1,
        movingS: 1,
        samples: 2,
      };
      await sub.subscribe(liveKeys.sessionChannel(s.activityId), liveKeys.userChannel(s.userId));
      sub.on('message', (c) => got.push(c));
      await store.publish([s]);
      await store.publish([s]);
      expect(await redis.hgetall(liveKeys.hash(s.activityId))).toMatchObject({
        hr: '150',
        lon: '',
        status: 'active',
        distanceM: '12.5',
      });
      expect(await redis.ttl(liveKeys.hash(s.activityId))).toBeGreaterThan(0);
      expect(await redis.zrange(liveKeys.active(s.userId), 0, -1)).toEqual([s.activityId]);
      await store.publish([{ ...s, status: 'ended', ts: 2000 }]);
      expect(await redis.zrange(liveKeys.active(s.userId), 0, -1)).toEqual([]);
      const ended = await redis.hgetall(liveKeys.hash(s.activityId));
      expect(ended.status).toBe('ended');
      // Once ended, the session stays ended while its hash lives: late samples (a fresh tracker entry
      // holding only them) and a repeated end change nothing and publish nothing.
      await store.publish([{ ...s, ts: 2500, samples: 1, distanceM: 0 }]);
      await store.publish([{ ...s, status: 'ended', ts: 2600, samples: 1, distanceM: 0 }]);
      expect(await redis.hgetall(liveKeys.hash(s.activityId))).toEqual(ended);
      expect(await redis.zrange(liveKeys.active(s.userId), 0, -1)).toEqual([]);
      await new Promise((r) => setTimeout(r, 200));
      expect(got.length).toBe(6);
      sub.disconnect();
      await redis.del(liveKeys.hash(s.activityId));
      await store.close();
    });
  });
}

liveContract('RedisLiveStore', async () => {
  const redis = new Redis('redis://127.0.0.1:6379');
  return { store: new RedisLiveStore(redis, 60), redis };
});
