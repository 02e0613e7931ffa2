import { createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { onShutdown } from '../common/shutdown.js';
import { buildApp } from './app.js';
import { authFromConfig } from './auth/setup.js';
import { apiEnv, checkApiConfig } from './config.js';
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
  logger,
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

await app.listen({ host: config.API_HOST, port: config.API_PORT });

onShutdown(logger, async () => {
  await app.close();
  await statsInvalidator.stop();
  for (const s of subscribers) s.disconnect();
  redis.disconnect();
  rateLimitRedis.disconnect();
  await Promise.all([pool.end(), clickhouse.close(), telemetry.close()]);
});
