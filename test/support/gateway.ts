// Helpers for the gateway's integration tests: a gateway on free ports, writing to private random topics,
// against the real local stack (infra/local/up). Not a test file itself.
import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { Registry } from 'prom-client';
import type { SchemaIds } from '../../schemas/registry.js';
import { type DecodedRecord, decodeConfluent } from '../../schemas/wire.js';
import { issueDeviceToken } from '../../services/common/device-tokens.js';
import { createLogger } from '../../services/common/logger.js';
import { type GatewayConfig, parseGatewayConfig } from '../../services/gateway/config.js';
import type { Gateway } from '../../services/gateway/gateway.js';
import type { KafkaProducer } from '../../services/gateway/producer-kafka.js';
import { startGatewayRuntime } from '../../services/gateway/runtime.js';
import { createTestUser, deleteTestUsers } from './users.js';

export const STACK = {
  kafka: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  registry: process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081',
  postgres: process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  mosquitto: process.env.BRIDGE_URL ?? 'mqtt://127.0.0.1:1884',
};

/** A kafkajs client of the shared broker, or of `brokers` (a private one: test/support/private-kafka.ts). */
export const testKafka = (brokers = STACK.kafka) =>
  new Kafka({
    clientId: `gw-test-${randomUUID().slice(0, 8)}`,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });

/** Creates private topics with random names; returns their names and a drop function. */
export async function privateTopics(
  partitions = 3,
  brokers = STACK.kafka,
): Promise<{ samples: string; dlq: string; drop: () => Promise<void> }> {
  const id = randomUUID().slice(0, 8);
  const samples = `test.gw.samples.${id}`;
  const dlq = `test.gw.dlq.${id}`;
  const admin = testKafka(brokers).admin();
  await admin.connect();
  // One topic per call: with several topics and waitForLeaders, kafkajs was seen creating only the first.
  for (const [topic, numPartitions] of [
    [samples, partitions],
    [dlq, 1],
  ] as const) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions, replicationFactor: 1 }],
    });
  }
  await admin.disconnect();
  return {
    samples,
    dlq,
    drop: async () => {
      const a = testKafka(brokers).admin();
      await a.connect();
      await a.deleteTopics({ topics: [samples, dlq] }).catch(() => {});
      await a.disconnect();
    },
  };
}

/** Reads a topic from the beginning and decodes every value through the schema registry. */
export class TopicReader {
  readonly records: Array<{ key: string; partition: number; offset: string; decoded: DecodedRecord }> = [];
  private readonly consumer;
  private readonly registry = new SchemaRegistry({ host: STACK.registry });

  constructor(
    private readonly topic: string,
    brokers = STACK.kafka,
  ) {
    this.consumer = testKafka(brokers).consumer({
      groupId: `gw-test-${randomUUID()}`,
      maxWaitTimeInMs: 100,
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message, partition }) => {
        const decoded = await decodeConfluent(this.registry, message.value as Buffer);
        this.records.push({ key: message.key?.toString() ?? '', partition, offset: message.offset, decoded });
      },
    });
  }

  async waitFor(n: number, timeoutMs = 20_000): Promise<void> {
    const t0 = Date.now();
    while (this.records.length < n) {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`${this.topic}: ${this.records.length}/${n} records after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  values<N extends DecodedRecord['name']>(name: N): Extract<DecodedRecord, { name: N }>['value'][] {
    return this.records.filter((r) => r.decoded.name === name).map((r) => r.decoded.value) as never;
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

export interface TestGateway {
  gateway: Gateway;
  config: GatewayConfig;
  producer: KafkaProducer;
  pool: pg.Pool;
  redis: Redis;
  schemaIds: SchemaIds;
  url: string;
  wsUrl: string;
  /** registers a device for a fresh user; returns its id and token */
  device(): Promise<{ deviceId: string; token: string; userId: string }>;
  close(): Promise<void>;
}

/** A gateway on free ports; its producer writes to the shared broker, or to `kafkaBrokers`. */
export async function startTestGateway(
  env: Record<string, string>,
  kafkaBrokers = STACK.kafka,
): Promise<TestGateway> {
  const config = parseGatewayConfig({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    MQTT_PORT: '0',
    MQTT_WS_PORT: '0',
    GATEWAY_HOST: '127.0.0.1',
    TOKEN_CACHE_TTL_MS: '1000',
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_CLIENT_ID: 'gw-test',
    DATABASE_URL: STACK.postgres,
    REDIS_URL: STACK.redis,
    SCHEMA_REGISTRY_URL: STACK.registry,
    ...env,
  });
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const runtime = await startGatewayRuntime(config, { logger, registry: new Registry(), poolMax: 4 });
  const { gateway, producer, pool, redis, schemaIds } = runtime;
  const users: string[] = [];
  return {
    gateway,
    config,
    producer,
    pool,
    redis,
    schemaIds,
    url: `mqtt://127.0.0.1:${gateway.broker?.port ?? 0}`,
    wsUrl: `ws://127.0.0.1:${gateway.broker?.wsPort ?? 0}`,
    async device() {
      const userId = await createTestUser(pool, {
        email: `gw-${randomUUID()}@test.invalid`,
        name: 'gateway test',
      });
      users.push(userId);
      const deviceId = `gwt-${randomUUID()}`;
      const token = await issueDeviceToken(pool, userId, deviceId, 'test device');
      return { deviceId, token, userId };
    },
    async close() {
      await deleteTestUsers(pool, users);
      await runtime.close();
    },
  };
}
