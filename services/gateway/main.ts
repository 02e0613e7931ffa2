import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import pg from 'pg';
import { registerSchemas } from '../../schemas/registry.js';
import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { startOpsServer } from '../common/ops-server.js';
import { onShutdown } from '../common/shutdown.js';
import { checkGatewayConfig, gatewayEnv } from './config.js';
import { startGateway } from './gateway.js';
import { connectKafkaProducer } from './producer-kafka.js';

const config = loadConfigOrExit('gateway', gatewayEnv, checkGatewayConfig);
const logger = createLogger('gateway', config.LOG_LEVEL);
const registry = createMetricsRegistry('gateway');

const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 8 });
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
const redisSub = config.GATEWAY_MODE === 'embedded' ? new Redis(config.REDIS_URL) : null;
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
redisSub?.on('error', (err) => logger.warn({ err: err.message }, 'redis (revocations) error'));

const schemaIds = await registerSchemas(new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL }));
const producer = await connectKafkaProducer({
  brokers: config.KAFKA_BROKERS,
  clientId: config.KAFKA_CLIENT_ID,
  requestTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
  logger,
});
const gateway = await startGateway(config, {
  pg: pool,
  redis,
  redisSub,
  schemaIds,
  send: producer.send,
  registry,
  logger,
});

const ops = await startOpsServer({
  host: config.OPS_HOST,
  port: config.OPS_PORT,
  registry,
  logger,
  checks: [
    {
      name: 'kafka',
      check: async () => {
        if (!producer.connected) throw new Error('producer not connected');
        if (gateway.batcher.isBackpressured) throw new Error('back-pressure: Kafka is behind');
      },
    },
    { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
    ...(gateway.bridge
      ? [
          {
            name: 'bridge',
            check: async () => {
              if (!gateway.bridge?.connected) throw new Error(`not connected to ${config.BRIDGE_URL}`);
            },
          },
        ]
      : []),
  ],
});
logger.info({ mode: config.GATEWAY_MODE, ops: config.OPS_PORT }, 'gateway started');

onShutdown(
  logger,
  async () => {
    await gateway.close();
    await ops.close();
    await producer.disconnect();
    redisSub?.disconnect();
    redis.disconnect();
    await pool.end();
  },
  config.SHUTDOWN_GRACE_MS,
);
