import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import type { ReadinessCheck } from '../common/ops-server.js';
import { createEngagementCodec } from './codec.js';
import type { EngagementConfig } from './config.js';
import { createEngagementMetrics, type EngagementMetrics } from './metrics.js';
import { OutboxPublisher } from './outbox-kafka.js';
import { ActivitySource } from './source-kafka.js';
import { PgEngagementStore } from './store-postgres.js';

export function createPostgres(c: EngagementConfig): pg.Pool {
  // a transaction per partition applied at once, the sweep, the outbox lease and the metrics read
  return new pg.Pool({
    connectionString: c.DATABASE_URL,
    max: c.ENGAGEMENT_PARTITIONS_CONCURRENTLY + 3,
    connectionTimeoutMillis: 5000,
  });
}

export interface RunningEngagement {
  source: ActivitySource;
  publisher: OutboxPublisher;
  store: PgEngagementStore;
  metrics: EngagementMetrics;
  checks: ReadinessCheck[];
  close(): Promise<void>;
}

/** Builds and starts the engagement service from config: what main.ts and the tests run. */
export async function startEngagement(
  c: EngagementConfig,
  logger: Logger,
  registry?: Registry,
  hooks: { pool?: pg.Pool; now?: () => number } = {},
): Promise<RunningEngagement> {
  const now = hooks.now ?? Date.now;
  const pool = hooks.pool ?? createPostgres(c);
  // an idle client's error (PostgreSQL restarted) must not crash the process; queries retry
  pool.on('error', (err) => logger.debug({ err: err.message }, 'postgres'));
  const kafka = new Kafka({
    clientId: `${c.KAFKA_CLIENT_ID}-engagement`,
    brokers: c.KAFKA_BROKERS,
    logLevel: logLevel.WARN,
  });
  const codec = createEngagementCodec(c.SCHEMA_REGISTRY_URL);
  const metrics = createEngagementMetrics(registry);
  const store = new PgEngagementStore(pool, {
    defaultTimezone: c.ENGAGEMENT_DEFAULT_TIMEZONE,
    streakRules: {
      minDistanceM: c.ENGAGEMENT_STREAK_MIN_DISTANCE_M,
      minMovingS: c.ENGAGEMENT_STREAK_MIN_MOVING_S,
      weeklyMinActivities: c.ENGAGEMENT_WEEKLY_MIN_ACTIVITIES,
    },
  });
  const publisher = new OutboxPublisher(
    pool,
    kafka,
    codec,
    {
      topic: c.TOPIC_GOALS,
      transactionalId: c.ENGAGEMENT_TRANSACTIONAL_ID,
      cursorGroup: `${c.ENGAGEMENT_GROUP_ID}.outbox-cursor`,
      batch: c.ENGAGEMENT_OUTBOX_BATCH,
      pollMs: c.ENGAGEMENT_OUTBOX_POLL_MS,
      retryMaxMs: c.ENGAGEMENT_RETRY_MAX_MS,
    },
    logger.child({ component: 'outbox' }),
    {
      onPublished: (_n, counts) => {
        for (const [record, n] of Object.entries(counts)) metrics.eventsOut.inc({ record }, n);
      },
      onLease: (held) => metrics.leader.set(held ? 1 : 0),
    },
  );
  const source = new ActivitySource(
    kafka,
    {
      groupId: c.ENGAGEMENT_GROUP_ID,
      topic: c.TOPIC_ACTIVITIES,
      fromBeginning: c.ENGAGEMENT_FROM_BEGINNING,
      retryMaxMs: c.ENGAGEMENT_RETRY_MAX_MS,
      concurrency: c.ENGAGEMENT_PARTITIONS_CONCURRENTLY,
    },
    codec,
    async (events) => {
      const r = await store.applyBatch(events, now());
      if (r.facts > 0) publisher.wake();
      return r;
    },
    metrics,
    logger.child({ component: 'source' }),
  );
  publisher.start();
  await source.start();

  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    (async () => {
      const n = (await store.drainRecompute(now())) + (await store.closeEnded(now()));
      if (n > 0) publisher.wake();
      metrics.outboxDepth.set(await store.outboxDepth());
    })()
      .catch((err) => logger.warn({ err: (err as Error).message }, 'sweep failed; next time'))
      .finally(() => {
        sweeping = false;
      });
  }, c.ENGAGEMENT_SWEEP_INTERVAL_MS);

  return {
    source,
    publisher,
    store,
    metrics,
    checks: [
      {
        name: 'postgres',
        check: async () => {
          await pool.query('SELECT 1');
        },
      },
    ],
    async close() {
      clearInterval(sweep);
      await source.stop();
      await publisher.stop();
      if (!hooks.pool) await pool.end();
    },
  };
}
