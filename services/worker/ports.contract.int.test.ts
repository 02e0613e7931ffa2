import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { activityIdFor } from '../../pipelines/index.js';
import type { AthleteProfile } from '../../pipelines/types.js';
import { liveKeys } from '../../schemas/live-keys.js';
import { ConfluentDecoder } from '../../schemas/wire.js';
import { createTestUser, deleteTestUsers } from '../../test/support/users.js';
import { batchOf, controlOf, type Isolated, isolate, rid, waitFor } from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { createClickHouse, createS3 } from './app.js';
import { noProfiles, PgAthleteProfiles } from './athletes.js';
import { computeActivity } from './compute.js';
import type { LiveSnapshot } from './live.js';
import type {
  ActivityEvent,
  ActivityWrite,
  AthleteProfiles,
  DeadLetter,
  DeadLetterQueue,
  EventPublisher,
  FlushBatch,
  LiveStore,
  SessionRef,
  SessionStore,
  Sink,
  Source,
  SourceHandler,
} from './ports.js';
import { KafkaPublisher } from './publisher-kafka.js';
import { type InboundRecord, type RawRecord, sessionKey } from './records.js';
import { ClickHouseSink } from './sink-clickhouse.js';
import { S3Archive } from './sink-s3.js';
import { ArchiveSource } from './source-archive.js';
import { KafkaSource } from './source-kafka.js';
import { ClickHouseSessionStore } from './store-clickhouse.js';
import { RedisLiveStore } from './store-redis.js';
import { computeColumns } from './stored-samples.js';

// The port contracts (ports.ts), run against every implementation's real backend. A Sink acknowledges
// by resolving and is idempotent: the same or an overlapping batch written again reads back the same.

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

sinkContract('ClickHouseSink', async () => {
  const iso = await isolate();
  const ch = createClickHouse(iso.config);
  const store = new ClickHouseSessionStore(ch, iso.database);
  return {
    sink: new ClickHouseSink(ch, iso.database),
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

// ---- SessionStore: what finalisation reads and writes, against the backend the Sink filled ----

interface SessionStoreUnderTest {
  store: SessionStore;
  /** the Sink of the same backend, which stores what the session store reads back */
  sink: Sink;
  cleanup(): Promise<void>;
}

function sessionStoreContract(name: string, make: () => Promise<SessionStoreUnderTest>) {
  describe(`SessionStore contract: ${name}`, () => {
    let s: SessionStoreUnderTest;
    afterAll(async () => {
      await s?.sink.close();
      await s?.cleanup();
    });

    test('reads back what the sink stored, knows it, versions and announcements are idempotent', async () => {
      s = await make();
      const tag = rid();
      const ref: SessionRef = {
        userId: `u-${tag}`,
        deviceId: `d-${tag}`,
        sessionId: `s-${tag}`,
        sport: 'running',
      };
      const other: SessionRef = { ...ref, deviceId: `d-${tag}-never`, sessionId: `s-${tag}-never` };
      const k = sessionKey(ref.deviceId, ref.sessionId);
      const ko = sessionKey(other.deviceId, other.sessionId);
      expect(await s.store.knownSessions([ref, other])).toEqual(new Set());
      expect(await s.store.unfinalisedSessions([0], 0)).toEqual([]);

      const written = batch(tag, 0, 40);
      await s.sink.writeBatch(written);
      await s.sink.writeBatch(batch(tag, 20, 40)); // an overlap reads back once
      expect(await s.store.knownSessions([ref, other])).toEqual(new Set([k]));
      const read = await s.store.readSessions([ref, other]);
      expect([...read.keys()].sort()).toEqual([k, ko].sort());
      const got = read.get(k)!;
      expect(read.get(ko)!.samples.length).toBe(0);
      expect(got.samples.length).toBe(36); // every 10th record is a lap control
      expect([...got.samples.ts]).toEqual(
        written.records.flatMap((r) => (r.decoded.kind === 'batch' ? [r.raw.timestamp] : [])),
      );
      expect(got.controls.map((c) => [c.kind, c.ts, c.userId])).toEqual(
        written.records.flatMap((r) =>
          r.decoded.kind === 'control' ? [['lap', r.raw.timestamp, ref.userId]] : [],
        ),
      );
      expect(await s.store.unfinalisedSessions([0], Date.now() - 60_000)).toEqual([{ ...ref, partition: 0 }]);
      expect(await s.store.unfinalisedSessions([1], 0)).toEqual([]);

      expect(await s.store.activityVersions([ref])).toEqual(new Map());
      const result = computeActivity({
        ...ref,
        sport: 'running',
        samples: computeColumns(got.samples),
        controls: got.controls,
        sets: got.sets,
        athlete: {},
      });
      const write: ActivityWrite = {
        ref,
        version: 7,
        summary: result.summary,
        clean: result.samples,
        input: got.samples,
      };
      await s.store.writeActivities([write]);
      await s.store.writeActivities([write]);
      const v = await s.store.activityVersions([ref, other]);
      expect([...v.keys()]).toEqual([k]);
      expect(v.get(k)).toMatchObject({
        deviceId: ref.deviceId,
        sessionId: ref.sessionId,
        activityId: result.summary.activityId,
        version: 7,
        firstVersion: 7,
      });
      await s.store.writeActivities([{ ...write, version: 9 }]);
      expect((await s.store.activityVersions([ref])).get(k)).toMatchObject({ version: 9, firstVersion: 7 });
      // stored but not announced: still to finalise; once announced (twice), no longer
      expect(await s.store.unfinalisedSessions([0], Date.now() - 60_000)).toHaveLength(1);
      await s.store.writeAnnouncements([{ ref, version: 9 }]);
      await s.store.writeAnnouncements([{ ref, version: 9 }]);
      expect(await s.store.unfinalisedSessions([0], Date.now() - 60_000)).toEqual([]);
      expect(await s.store.readSessions([])).toEqual(new Map());
      expect(await s.store.activityVersions([])).toEqual(new Map());
    });
  });
}

sessionStoreContract('ClickHouseSessionStore', async () => {
  const iso = await isolate();
  const ch = createClickHouse(iso.config);
  return {
    store: new ClickHouseSessionStore(ch, iso.database),
    sink: new ClickHouseSink(ch, iso.database),
    cleanup: () => iso.cleanup(),
  };
});

// ---- EventPublisher and DeadLetterQueue: what is acknowledged can be read back from the topic ----

async function readTopic(iso: Isolated, topic: string, n: number) {
  const decoder = new ConfluentDecoder(new SchemaRegistry({ host: iso.config.SCHEMA_REGISTRY_URL }));
  const consumer = iso.kafka.consumer({ groupId: `wtest-contract-${rid()}` });
  const got: { key: string | undefined; name: string; value: Record<string, unknown> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const d = await decoder.decode(message.value!);
      got.push({
        key: message.key?.toString(),
        name: d.name,
        value: d.value as unknown as Record<string, unknown>,
      });
    },
  });
  try {
    await waitFor(async () => got.length >= n);
    await new Promise((r) => setTimeout(r, 300)); // nothing more than asked for
  } finally {
    await consumer.disconnect();
  }
  return got;
}

function publisherContract(
  name: string,
  make: () => Promise<{ iso: Isolated; publisher: EventPublisher & DeadLetterQueue; close(): Promise<void> }>,
) {
  describe(`EventPublisher and DeadLetterQueue contract: ${name}`, () => {
    test('events keyed by user and dead letters with their reason read back as sent', async () => {
      const { iso, publisher, close } = await make();
      try {
        const userId = `u-${rid()}`;
        const value = {
          activityId: activityIdFor(userId, 'd', 's'),
          userId,
          sessionId: 's',
          deviceId: 'd',
          sport: 'running' as const,
          version: 3,
          algorithmVersion: 'contract',
          startTs: 1000,
          endTs: 61_000,
          distanceM: 150.5,
          movingS: 58,
          elapsedS: 60,
          elevationGainM: 2,
          avgHr: 140.5,
          maxHr: 160,
          samples: 61,
          summaryJson: '{}',
          at: 1_760_000_000_000,
        };
        const events: ActivityEvent[] = [
          { name: 'ActivityCreated', value },
          { name: 'ActivityUpdated', value: { ...value, version: 4, reason: 'late_data' as const } },
        ];
        await publisher.publishActivities([]);
        await publisher.publishActivities(events);
        const got = await readTopic(iso, iso.activities, 2);
        expect(got).toEqual(events.map((e) => ({ key: userId, name: e.name, value: e.value })));

        const raw = batch(rid(), 0, 1).records[0]!.raw;
        const dead: DeadLetter[] = [
          { raw, reason: 'sink_rejected', message: 'refused', deviceId: 'd' },
          { raw, reason: 'finalise_failed', message: 'threw', deviceId: null, source: 'finalise:d/s' },
        ];
        await publisher.deadLetter([], 1);
        await publisher.deadLetter(dead, 1_760_000_000_123);
        const dl = await readTopic(iso, iso.dlq, 2);
        expect(dl.map((d) => [d.key, d.name, d.value.reasonCode, d.value.message, d.value.deviceId])).toEqual(
          [
            [raw.key!.toString(), 'DlqRecord', 'sink_rejected', 'refused', 'd'],
            [raw.key!.toString(), 'DlqRecord', 'finalise_failed', 'threw', null],
          ],
        );
        expect(dl.map((d) => d.value.source)).toEqual([
          `kafka:${raw.topic}/${raw.partition}@${raw.offset}`,
          'finalise:d/s',
        ]);
        expect(dl.map((d) => Buffer.from(d.value.original as Buffer).toString('hex'))).toEqual([
          raw.value!.toString('hex'),
          raw.value!.toString('hex'),
        ]);
        expect(dl.map((d) => d.value.at)).toEqual([1_760_000_000_123, 1_760_000_000_123]);
      } finally {
        await close();
      }
    });
  });
}

publisherContract('KafkaPublisher', async () => {
  const iso = await isolate({ partitions: 1 });
  const publisher = new KafkaPublisher(iso.kafka, iso.codec, { activities: iso.activities, dlq: iso.dlq });
  await publisher.connect();
  return {
    iso,
    publisher,
    async close() {
      await publisher.disconnect();
      await iso.cleanup();
    },
  };
});

// ---- AthleteProfiles: every id asked for is answered; unknown ones get the defaults ({}) ----

function profilesContract(
  name: string,
  make: () => Promise<{
    profiles: AthleteProfiles;
    known?: { id: string; has: Partial<AthleteProfile> };
    close(): Promise<void>;
  }>,
) {
  describe(`AthleteProfiles contract: ${name}`, () => {
    test('one answer per id asked (duplicates once), defaults for unknown and non-uuid ids', async () => {
      const { profiles, known, close } = await make();
      try {
        const unknown = randomUUID();
        const ids = [...(known ? [known.id, known.id] : []), unknown, 'u-not-a-uuid'];
        const got = await profiles.profiles(ids);
        expect([...got.keys()].sort()).toEqual([...new Set(ids)].sort());
        expect(got.get(unknown)).toEqual({});
        expect(got.get('u-not-a-uuid')).toEqual({});
        if (known) expect(got.get(known.id)).toMatchObject(known.has);
        expect(await profiles.profiles([])).toEqual(new Map());
      } finally {
        await close();
      }
    });
  });
}

profilesContract('PgAthleteProfiles', async () => {
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream',
    max: 2,
  });
  const id = randomUUID();
  await createTestUser(pool, {
    id,
    email: `wtest-${rid()}@example.test`,
    name: 'contract',
    birthDate: '1985-01-02',
    weightKg: 70,
    maxHr: 181,
    restingHr: 50,
    sex: 'male',
  });
  return {
    profiles: new PgAthleteProfiles(pool),
    known: { id, has: { maxHr: 181, restHr: 50, birthYear: 1985, weightKg: 70, sex: 'm' } },
    async close() {
      await deleteTestUsers(pool, [id]);
      await pool.end();
    },
  };
});

profilesContract('noProfiles', async () => ({ profiles: noProfiles, close: async () => {} }));

// ---- Source: every record reaches the handler, each job is written before it completes, and a new
// reader starts after what completed (Kafka: the group's commit) or, for a source without
// acknowledgements (the archive), reads it all again ----

class RecordingHandler implements SourceHandler<RawRecord[]> {
  pending: RawRecord[] = [];
  readonly log: string[] = [];
  readonly completed: RawRecord[] = [];
  private jobs = 0;
  async ingest(raw: RawRecord): Promise<number> {
    this.pending.push(raw);
    return 1;
  }
  take(): RawRecord[] {
    const job = this.pending;
    this.pending = [];
    return job;
  }
  async write(job: RawRecord[]): Promise<void> {
    (job as RawRecord[] & { n?: number }).n = ++this.jobs;
    this.log.push(`write ${(job as { n?: number }).n}`);
  }
  async complete(job: RawRecord[]): Promise<void> {
    this.log.push(`complete ${(job as { n?: number }).n}`);
    this.completed.push(...job);
  }
  assigned(): void {}
}

function sourceContract(
  name: string,
  make: () => Promise<{
    source: (h: SourceHandler<RawRecord[]>) => Source;
    put(values: string[]): Promise<void>;
    close(): Promise<void>;
  }>,
  again: 'after-completed' | 'everything',
) {
  describe(`Source contract: ${name}`, () => {
    test('records in order to the handler; write before complete per job; what a second reader gets', async () => {
      const { source, put, close } = await make();
      try {
        const first = Array.from({ length: 30 }, (_, i) => `a${i}`);
        await put(first);
        const h1 = new RecordingHandler();
        const s1 = source(h1);
        await s1.start();
        await waitFor(async () => h1.completed.length >= first.length, 60_000);
        await s1.exclusive(async () => {});
        await s1.stop();
        expect(h1.completed.map((r) => r.value?.toString())).toEqual(first);
        for (let j = 1; h1.log.includes(`write ${j}`); j++) {
          expect(h1.log.indexOf(`write ${j}`)).toBeLessThan(h1.log.indexOf(`complete ${j}`));
        }
        // a second reader (same group) gets only what came after, or everything again
        const second = ['b0', 'b1', 'b2'];
        const expected = again === 'everything' ? [...first, ...second] : second;
        await put(second);
        const h2 = new RecordingHandler();
        const s2 = source(h2);
        await s2.start();
        await waitFor(async () => h2.completed.length >= expected.length, 60_000);
        await new Promise((r) => setTimeout(r, 500));
        await s2.stop();
        expect(h2.completed.map((r) => r.value?.toString())).toEqual(expected);
      } finally {
        await close();
      }
    });
  });
}

sourceContract(
  'KafkaSource',
  async () => {
    const iso = await isolate({ partitions: 1 });
    const logger = createLogger('contract', 'silent');
    return {
      source: (h) =>
        new KafkaSource(
          iso.kafka,
          { groupId: iso.group, topic: iso.topic, fromBeginning: true, flushIntervalMs: 100, batchRows: 7 },
          h,
          logger,
        ),
      async put(values) {
        await iso.producer.send({
          topic: iso.topic,
          acks: -1,
          messages: values.map((v) => ({ key: 'k', value: v })),
        });
      },
      close: () => iso.cleanup(),
    };
  },
  'after-completed',
);

sourceContract(
  'ArchiveSource',
  async () => {
    const iso = await isolate({ partitions: 1 });
    const logger = createLogger('contract', 'silent');
    const archive = new S3Archive(createS3(iso.config), {
      bucket: iso.config.S3_BUCKET,
      prefix: iso.prefix,
      windowS: 60,
    });
    let offset = 0;
    return {
      source: (h) => new ArchiveSource(archive, { topic: iso.topic, batchRows: 7 }, h, logger),
      async put(values) {
        const raw: RawRecord[] = values.map((v) => ({
          topic: iso.topic,
          partition: 0,
          offset: String(offset++),
          key: Buffer.from('k'),
          value: Buffer.from(v),
          timestamp: 1_760_000_000_000 + offset,
        }));
        await archive.writeBatch({ raw, records: [] });
      },
      async close() {
        await archive.close();
        await iso.cleanup();
      },
    };
  },
  'everything',
);
