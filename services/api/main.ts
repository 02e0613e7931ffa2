import { S3Client } from '@aws-sdk/client-s3';
import { createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { onShutdown } from '../common/shutdown.js';
import { s3ExportStore } from './account-exports.js';
import { ActivityDeletionRelay } from './activity-deletion.js';
import { FailureRecorder } from './activity-failures.js';
import { buildApp } from './app.js';
import { authFromConfig } from './auth/setup.js';
import { apiEnv, checkApiConfig } from './config.js';
import { ImportRunner } from './import-runner.js';
import { s3ImportStore } from './imports-s3.js';
import { PointsConsumer, PointsStore } from './points-store.js';
import { kafkaTelemetryProducer } from './producer-kafka.js';
import { StatsInvalidator } from './stats-cache.js';

const config = loadConfigOrExit('api', apiEnv, checkApiConfig);
const logger = createLogger('api', config.LOG_LEVEL);
const registry = createMetricsRegistry('api');

// A bounded connect wait: a PostgreSQL that does not answer gives 503 within seconds, not a hung request.
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 10, connectionTimeoutMillis: 3000 });
pool.on('error', (err) => logger.warn({ err: err.message }, 'postgres connection lost'));
const redis = new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
// Rate-limit checks fail at once while Redis is away (no offline queue), and the request goes on.
const rateLimitRedis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, commandTimeout: 500 });
rateLimitRedis.on('error', () => {}); // counted and logged by the limiter per failed check
const subscribers: Redis[] = [];
const clickhouse = createClient({
  url: config.CLICKHOUSE_URL,
  username: config.CLICKHOUSE_USER,
  password: config.CLICKHOUSE_PASSWORD,
});

const telemetry = kafkaTelemetryProducer({
  brokers: config.KAFKA_BROKERS,
  clientId: `${config.KAFKA_CLIENT_ID}-api`,
  registryUrl: config.SCHEMA_REGISTRY_URL,
  topic: config.TOPIC_SAMPLES,
  activitiesTopic: config.TOPIC_ACTIVITIES,
  logger,
});

const s3 = new S3Client({
  endpoint: config.S3_ENDPOINT,
  region: config.S3_REGION,
  forcePathStyle: config.S3_FORCE_PATH_STYLE,
  credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
});
const importStore = s3ImportStore(s3, config.S3_BUCKET, config.API_IMPORT_PREFIX);
const importRunner = new ImportRunner({
  pg: pool,
  store: importStore,
  telemetry,
  logger: logger.child({ component: 'imports' }),
  queue: config.API_IMPORT_QUEUE,
  leaseMs: config.API_IMPORT_LEASE_MS,
  threads: config.API_IMPORT_THREADS,
});

let auth: Awaited<ReturnType<typeof authFromConfig>>;
try {
  auth = await authFromConfig(config);
} catch (err) {
  process.stderr.write(`fitstream-api: ${(err as Error).message}\n`);
  process.exit(1);
}

const app = await buildApp({
  logger,
  registry,
  rateLimitPerMinute: config.API_RATE_LIMIT_PER_MIN,
  authRateLimits: {
    perIpPerMinute: config.API_AUTH_RATE_LIMIT_PER_IP_PER_MIN,
    perAccountPer15Min: config.API_AUTH_RATE_LIMIT_PER_ACCOUNT_PER_15_MIN,
  },
  rateLimitRedis,
  trustedProxies: config.API_TRUSTED_PROXIES,
  bodyLimitBytes: config.API_BODY_LIMIT_BYTES,
  web: {
    ...(config.API_WEB_ROOT ? { root: config.API_WEB_ROOT } : {}),
    tileUrl: config.API_WEB_TILE_URL || null,
  },
  deps: {
    pg: pool,
    redis,
    redisSub: () => {
      const r = new Redis(config.REDIS_URL);
      subscribers.push(r);
      return r;
    },
    clickhouse,
    clickhouseDatabase: config.CLICKHOUSE_DATABASE,
    mqttPublicUrl: config.MQTT_PUBLIC_URL,
    auth,
    telemetry,
    imports: { store: importStore, queue: config.API_IMPORT_QUEUE, wake: () => importRunner.wake() },
    // account exports as a job share the imports' queue name: one deployment, one queue
    exports: {
      store: s3ExportStore(s3, config.S3_BUCKET, config.API_EXPORT_PREFIX),
      queue: config.API_IMPORT_QUEUE,
    },
    // the StatsInvalidator below keeps the generations the list and progress caches are keyed by
    activityGenerations: true,
  },
  checks: [
    { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
    { name: 'redis', check: async () => void (await redis.ping()) },
    {
      name: 'clickhouse',
      check: async () => {
        const r = await clickhouse.ping();
        if (!r.success) throw r.error;
      },
    },
  ],
});

// One group for every replica: the generations live in the shared Redis, one bump per record is enough.
const statsInvalidator = new StatsInvalidator(
  new Kafka({
    clientId: `${config.KAFKA_CLIENT_ID}-api-stats`,
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.WARN,
  }),
  redis,
  { topic: config.TOPIC_ACTIVITIES, groupId: config.API_STATS_GROUP_ID, registry },
);
await statsInvalidator.start();

// One group for every replica too: points rows live in ClickHouse, one rewrite per record is enough. It
// also finishes a published rules version this store does not serve yet (a crash mid-recompute).
const pointsConsumer = new PointsConsumer(
  new Kafka({
    clientId: `${config.KAFKA_CLIENT_ID}-api-points`,
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.WARN,
  }),
  new PointsStore(pool, clickhouse, config.CLICKHOUSE_DATABASE, redis, registry),
  {
    topic: config.TOPIC_ACTIVITIES,
    groupId: config.API_POINTS_GROUP_ID,
    onError: (err) => logger.error({ err }, 'points catch-up failed'),
  },
);
await pointsConsumer.start();

// One group for every replica: the reasons live in PostgreSQL, one insert per dead letter is enough.
const failureRecorder = new FailureRecorder(
  new Kafka({
    clientId: `${config.KAFKA_CLIENT_ID}-api-failures`,
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.WARN,
  }),
  pool,
  {
    topic: config.TOPIC_DLQ,
    groupId: config.API_FAILURES_GROUP_ID,
    registryUrl: config.SCHEMA_REGISTRY_URL,
    logger: logger.child({ component: 'failure-recorder' }),
  },
);
await failureRecorder.start();

// Finishes deletions that a request left half-done (ClickHouse or Kafka away, the client gone).
const deletionRelay = new ActivityDeletionRelay(
  { pg: pool, redis, clickhouse, clickhouseDatabase: config.CLICKHOUSE_DATABASE, telemetry },
  logger.child({ component: 'deletion-relay' }),
);
deletionRelay.start();

await app.listen({ host: config.API_HOST, port: config.API_PORT });
importRunner.start();

onShutdown(logger, async () => {
  await app.close();
  await importRunner.close({ release: true });
  await deletionRelay.stop();
  await statsInvalidator.stop();
  await pointsConsumer.stop();
  await failureRecorder.stop();
  for (const s of subscribers) s.disconnect();
  redis.disconnect();
  rateLimitRedis.disconnect();
  await Promise.all([pool.end(), clickhouse.close(), telemetry.close()]);
  s3.destroy();
});
