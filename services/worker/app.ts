import { S3Client } from '@aws-sdk/client-s3';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import type { ReadinessCheck } from '../common/ops-server.js';
import { PgAthleteProfiles } from './athletes.js';
import { createRecordCodec, type RecordCodec } from './codec.js';
import type { WorkerConfig } from './config.js';
import { pgDeletedActivities } from './deleted-activities.js';
import type { ComputeActivity } from './finalise.js';
import { LiveTracker } from './live.js';
import { finaliseDeadLetter, KafkaPublisher } from './publisher-kafka.js';
import { Sessions } from './sessions.js';
import { ClickHouseSink } from './sink-clickhouse.js';
import { S3Archive } from './sink-s3.js';
import { KafkaSource } from './source-kafka.js';
import { ClickHouseSessionStore } from './store-clickhouse.js';
import { RedisLiveStore } from './store-redis.js';
import { type FlushJob, Worker } from './worker.js';

export function createClickHouse(c: WorkerConfig) {
  return createClient({
    url: c.CLICKHOUSE_URL,
    username: c.CLICKHOUSE_USER,
    password: c.CLICKHOUSE_PASSWORD,
    request_timeout: 30_000,
    max_open_connections: 8,
    // the local server closes idle keep-alive sockets after 3 s; reuse them only well within that
    keep_alive: { enabled: true, idle_socket_ttl: 1500 },
    // failures surface as typed sink errors with retry logs; the client's own logger would repeat them
    log: { level: ClickHouseLogLevel.OFF },
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
}

export function createS3(c: WorkerConfig): S3Client {
  return new S3Client({
    endpoint: c.S3_ENDPOINT,
    region: c.S3_REGION,
    forcePathStyle: c.S3_FORCE_PATH_STYLE,
    credentials: { accessKeyId: c.S3_ACCESS_KEY_ID, secretAccessKey: c.S3_SECRET_ACCESS_KEY },
  });
}

/** PostgreSQL for athlete profiles and activity tombstones: a batched read or two per flush needs few connections. */
export function createPostgres(c: WorkerConfig): pg.Pool {
  return new pg.Pool({ connectionString: c.DATABASE_URL, max: 2, connectionTimeoutMillis: 5000 });
}

export function createKafka(c: WorkerConfig, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: c.KAFKA_BROKERS, logLevel: logLevel.WARN });
}

/**
 * The connections a worker runs on. Built from config by createWorkerClients (main.ts, tests and
 * benches through startWorkerRuntime) and closed by whoever built them: startWorker only uses them.
 */
export interface WorkerClients {
  kafka: Kafka;
  clickhouse: ClickHouseClient;
  s3: S3Client;
  redis: Redis;
  /** PostgreSQL: athlete profiles and activity tombstones */
  pg: pg.Pool;
  codec: RecordCodec;
}

/** The worker's connections from its config (none is used until startWorker). */
export function createWorkerClients(c: WorkerConfig, logger: Logger): WorkerClients {
  const pool = createPostgres(c);
  // an idle client's error (PostgreSQL restarted) must not crash the process; queries retry
  pool.on('error', (err) => logger.debug({ err: err.message }, 'postgres'));
  const redis = new Redis(c.REDIS_URL, { maxRetriesPerRequest: 3, lazyConnect: false });
  redis.on('error', (err) => logger.debug({ err: err.message }, 'redis'));
  return {
    kafka: createKafka(c, `${c.KAFKA_CLIENT_ID}-worker`),
    clickhouse: createClickHouse(c),
    s3: createS3(c),
    redis,
    pg: pool,
    codec: createRecordCodec(c.SCHEMA_REGISTRY_URL),
  };
}

export async function closeWorkerClients(cl: WorkerClients): Promise<void> {
  await Promise.allSettled([cl.clickhouse.close(), cl.pg.end()]);
  cl.s3.destroy();
  cl.redis.disconnect();
}

export interface RunningWorker {
  worker: Worker;
  source: KafkaSource<FlushJob>;
  sink: ClickHouseSink;
  store: ClickHouseSessionStore;
  sessions: Sessions;
  /** readiness checks for /readyz */
  checks: ReadinessCheck[];
  /** stops consuming (what was read is flushed and committed) and the producer; the clients stay open */
  close(): Promise<void>;
}

/**
 * Builds the worker on the given clients and starts consuming: sinks, stores, the publisher, the
 * session registry and the Kafka source, as main.ts, the tests and the benches run it.
 */
export async function startWorker(
  c: WorkerConfig,
  compute: ComputeActivity,
  clients: WorkerClients,
  opts: { logger: Logger; registry?: Registry },
): Promise<RunningWorker> {
  const { logger, registry } = opts;
  const { kafka, codec, redis, pg: pool } = clients;
  const sink = new ClickHouseSink(clients.clickhouse, c.CLICKHOUSE_DATABASE);
  const store = new ClickHouseSessionStore(clients.clickhouse, c.CLICKHOUSE_DATABASE);
  const archive = new S3Archive(clients.s3, {
    bucket: c.S3_BUCKET,
    prefix: c.WORKER_ARCHIVE_PREFIX,
    windowS: c.WORKER_ARCHIVE_WINDOW_S,
  });
  const live = new RedisLiveStore(redis, c.WORKER_LIVE_TTL_S);
  const publisher = new KafkaPublisher(kafka, codec, { activities: c.TOPIC_ACTIVITIES, dlq: c.TOPIC_DLQ });
  await publisher.connect();
  const deletedActivities = pgDeletedActivities(pool);
  const sessions = new Sessions(
    store,
    publisher,
    compute,
    {
      timeoutMs: c.WORKER_SESSION_TIMEOUT_S * 1000,
      recoveryWindowMs: c.WORKER_RECOVERY_WINDOW_H * 3600 * 1000,
      athletes: new PgAthleteProfiles(pool, { ttlMs: c.WORKER_PROFILE_TTL_S * 1000 }),
      imageBytes: c.WORKER_FINALISE_MEMORY_MB * 1024 * 1024,
      deletedActivities,
      deadLetter: (failures) => {
        const now = Date.now();
        return publisher.deadLetter(
          failures.map((f) => finaliseDeadLetter(f, c.TOPIC_SAMPLES, now)),
          now,
        );
      },
    },
    logger.child({ component: 'sessions' }),
  );
  const worker = new Worker({
    codec,
    sinks: [sink, archive],
    live: {
      store: live,
      tracker: new LiveTracker(c.WORKER_SESSION_TIMEOUT_S * 1000),
      intervalMs: c.WORKER_LIVE_INTERVAL_MS,
    },
    dlq: publisher,
    sessions,
    logger,
    registry,
    retryMaxMs: c.WORKER_RETRY_MAX_MS,
    deletedActivities,
  });
  const source = new KafkaSource(
    kafka,
    {
      groupId: c.WORKER_GROUP_ID,
      topic: c.TOPIC_SAMPLES,
      fromBeginning: c.WORKER_FROM_BEGINNING,
      flushIntervalMs: c.WORKER_FLUSH_INTERVAL_MS,
      batchRows: c.WORKER_BATCH_ROWS,
    },
    worker,
    logger.child({ component: 'source' }),
  );
  await source.start();
  let sweeping = false;
  const sweepTimer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    source
      .exclusive(() => worker.sweep())
      .catch((err) => logger.error({ err }, 'sweep failed'))
      .finally(() => {
        sweeping = false;
      });
  }, c.WORKER_SWEEP_INTERVAL_MS);
  return {
    worker,
    source,
    sink,
    store,
    sessions,
    checks: [
      { name: 'clickhouse', check: () => sink.ping() },
      {
        name: 'redis',
        check: async () => {
          await redis.ping();
        },
      },
    ],
    async close() {
      clearInterval(sweepTimer);
      await source.stop();
      // the last records read (an end message) reach the live view before the clients close
      await worker.publishLive();
      worker.stop();
      await publisher.disconnect();
    },
  };
}

/** A started worker with the clients it was built on (createWorkerClients): what main.ts, tests and benches run. */
export interface WorkerRuntime extends RunningWorker {
  clients: WorkerClients;
  /** the worker first (it commits what it made durable), then the clients */
  close(): Promise<void>;
}

/** createWorkerClients + startWorker; close() closes both. */
export async function startWorkerRuntime(
  c: WorkerConfig,
  compute: ComputeActivity,
  logger: Logger,
  registry?: Registry,
): Promise<WorkerRuntime> {
  const clients = createWorkerClients(c, logger);
  let running: RunningWorker;
  try {
    running = await startWorker(c, compute, clients, { logger, registry });
  } catch (err) {
    await closeWorkerClients(clients);
    throw err;
  }
  return {
    ...running,
    clients,
    async close() {
      await running.close();
      await closeWorkerClients(clients);
    },
  };
}
