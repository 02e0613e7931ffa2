// Test support for the engagement service: a private PostgreSQL database migrated from
// infra/postgres/migrations (the outbox lease and the read model are per database, so tests never
// meet the demo's engagement service or each other), private topics, a producer of activity events
// and a reader of goals.v1 that sees committed records only.
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { avroTypes } from '../../schemas/avro.js';
import { registerSchemas, type SchemaIds } from '../../schemas/registry.js';
import type { ActivityCreated, ActivityDeleted, AvroRecords } from '../../schemas/types.js';
import { ConfluentDecoder, encodeConfluent } from '../../schemas/wire.js';
import { parseEnv } from '../../services/common/config.js';
import {
  checkEngagementConfig,
  type EngagementConfig,
  engagementEnv,
} from '../../services/engagement/config.js';

const MIGRATIONS = fileURLToPath(new URL('../../infra/postgres/migrations', import.meta.url));
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';

export const rid = (n = 6): string => randomBytes(n).toString('hex');

export interface PrivateDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh database with every migration applied; `drop()` removes it. */
export async function privateDatabase(): Promise<PrivateDatabase> {
  const name = `etest_${rid()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  await runner({
    databaseUrl: url.toString(),
    dir: MIGRATIONS,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    log: () => {},
  });
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  // drop() terminates what is still connected (WITH FORCE): an idle client's 'terminating connection'
  // (57P01) must not become an uncaught exception of the test run (it did once, in crash.int.test.ts)
  pool.on('error', () => {});
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end().catch(() => {});
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await a.end();
    },
  };
}

export interface GoalsRecord {
  name: keyof AvroRecords;
  value: Record<string, unknown>;
  key: string;
  offset: string;
}

export interface EngagementStack {
  id: string;
  db: PrivateDatabase;
  config: EngagementConfig;
  kafka: Kafka;
  producer: Producer;
  /** publishes activity events on the private activities topic, key = userId */
  send(
    events: Array<{ name: 'ActivityCreated' | 'ActivityUpdated' | 'ActivityDeleted'; value: unknown }>,
  ): Promise<void>;
  /** every committed record on the private goals topic so far */
  goals(): GoalsRecord[];
  /** waits until `pred` holds for the goals records read so far */
  waitForGoals(pred: (records: GoalsRecord[]) => boolean, timeoutMs?: number): Promise<GoalsRecord[]>;
  /** an athlete in the private database */
  user(opts?: { timezone?: string }): Promise<string>;
  cleanup(): Promise<void>;
}

export async function engagementStack(
  opts: { partitions?: number; env?: Record<string, string> } = {},
): Promise<EngagementStack> {
  const id = rid();
  const db = await privateDatabase();
  const activities = `etest.activities.${id}`;
  const goalsTopic = `etest.goals.${id}`;
  const config = checkEngagementConfig(
    parseEnv(engagementEnv, {
      DATABASE_URL: db.url,
      TOPIC_ACTIVITIES: activities,
      TOPIC_GOALS: goalsTopic,
      ENGAGEMENT_GROUP_ID: `etest-${id}`,
      ENGAGEMENT_TRANSACTIONAL_ID: `etest-${id}`,
      ENGAGEMENT_OPS_PORT: '0',
      ENGAGEMENT_OUTBOX_POLL_MS: '100',
      ENGAGEMENT_SWEEP_INTERVAL_MS: '200',
      ENGAGEMENT_RETRY_MAX_MS: '1000',
      LOG_LEVEL: 'warn',
      ...opts.env,
    }),
  );
  const kafka = new Kafka({
    clientId: `etest-${id}`,
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: activities, numPartitions: opts.partitions ?? 2, replicationFactor: 1 },
      { topic: goalsTopic, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const registry = new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL });
  const ids: SchemaIds = await registerSchemas(registry);
  const decoder = new ConfluentDecoder(registry);
  const seen: GoalsRecord[] = [];
  const reader = kafka.consumer({ groupId: `etest-reader-${id}`, maxWaitTimeInMs: 100 });
  await reader.connect();
  await reader.subscribe({ topics: [goalsTopic], fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const d = await decoder.decode(message.value!);
      seen.push({
        name: d.name,
        value: d.value as unknown as Record<string, unknown>,
        key: message.key?.toString() ?? '',
        offset: message.offset,
      });
    },
  });
  return {
    id,
    db,
    config,
    kafka,
    producer,
    async send(events) {
      await producer.send({
        topic: activities,
        acks: -1,
        messages: events.map((e) => ({
          key: (e.value as { userId: string }).userId,
          value: encodeConfluent(ids[e.name], avroTypes[e.name] as never, e.value as never),
        })),
      });
    },
    goals: () => [...seen],
    async waitForGoals(pred, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!pred(seen)) {
        if (Date.now() > until)
          throw new Error(`goals records never matched; have ${JSON.stringify(seen.map((s) => s.name))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return [...seen];
    },
    async user(o = {}) {
      const uid = randomUUID();
      await db.pool.query('INSERT INTO users (id, email, name) VALUES ($1, $2, $3)', [
        uid,
        `${uid}@etest.invalid`,
        'etest',
      ]);
      if (o.timezone) await db.pool.query('UPDATE users SET timezone = $2 WHERE id = $1', [uid, o.timezone]);
      return uid;
    },
    async cleanup() {
      // a reader stuck behind a killed producer's open transaction must not hold up the cleanup
      await Promise.race([reader.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
      await producer.disconnect().catch(() => {});
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics: [activities, goalsTopic] }).catch(() => {});
      await a
        .deleteGroups([`etest-${id}`, `etest-reader-${id}`, `etest-${id}.outbox-cursor`])
        .catch(() => {});
      await a.disconnect();
      await db.drop();
    },
  };
}

let seq = 0;

/** An ActivityCreated for `userId` starting at `startTs` (defaults: a 5 km run of 30 min). */
export function activity(userId: string, startTs: number, o: Partial<ActivityCreated> = {}): ActivityCreated {
  seq += 1;
  return {
    activityId: o.activityId ?? `act-${rid(4)}-${seq}`,
    userId,
    sessionId: `s-${seq}`,
    deviceId: null,
    sport: 'running',
    version: 1_000_001,
    algorithmVersion: 'test',
    startTs,
    endTs: startTs + 1_800_000,
    distanceM: 5000,
    movingS: 1800,
    elapsedS: 1800,
    elevationGainM: 20,
    avgHr: null,
    maxHr: null,
    samples: 1800,
    summaryJson: '{"calories":300}',
    at: startTs + 1_800_000,
    ...o,
  };
}

export function deletion(a: Pick<ActivityCreated, 'activityId' | 'userId' | 'version'>): ActivityDeleted {
  return { activityId: a.activityId, userId: a.userId, version: a.version, reason: 'user', at: Date.now() };
}
