import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Registry } from 'prom-client';
import { registerSchemas, type SchemaIds } from '../../schemas/registry.js';
import type { Logger } from '../common/logger.js';
import type { GatewayConfig } from './config.js';
import { type Gateway, startGateway } from './gateway.js';
import { connectKafkaProducer, type KafkaProducer } from './producer-kafka.js';

/** A started gateway with the connections it was built on. */
export interface GatewayRuntime {
  gateway: Gateway;
  producer: KafkaProducer;
  pool: pg.Pool;
  redis: Redis;
  /** the revocation subscriber: embedded mode drops a revoked device's connections, bridge mode its cached owner */
  redisSub: Redis;
  schemaIds: SchemaIds;
  /** gateway first (it flushes what it admitted to Kafka), then the connections */
  close(): Promise<void>;
}

/**
 * Builds the gateway's dependencies from its config (PostgreSQL, Redis, the schema registry, the Kafka
 * producer) and starts it: what main.ts runs, and what tests and benches start in-process, so both run the
 * same wiring.
 */
export async function startGatewayRuntime(
  config: GatewayConfig,
  opts: { logger: Logger; registry: Registry; poolMax?: number },
): Promise<GatewayRuntime> {
  const { logger, registry } = opts;
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: opts.poolMax ?? 8 });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // token revocations: embedded mode drops the device's connections, bridge mode forgets its cached owner
  const redisSub = new Redis(config.REDIS_URL);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  redisSub.on('error', (err) => logger.warn({ err: err.message }, 'redis (revocations) error'));

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
  return {
    gateway,
    producer,
    pool,
    redis,
    redisSub,
    schemaIds,
    async close() {
      await gateway.close();
      await producer.disconnect();
      redisSub.disconnect();
      redis.disconnect();
      await pool.end();
    },
  };
}
