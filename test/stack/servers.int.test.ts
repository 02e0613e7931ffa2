import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createClient } from '@clickhouse/client';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import {
  clickhouseEnv,
  kafkaEnv,
  parseEnv,
  postgresEnv,
  redisEnv,
  s3Env,
} from '../../services/common/config.js';

// Each server of the local stack, reached through the client library the project uses.
// Names are random per run so the tests can run beside a demo or another test run.
const env = {
  ...parseEnv(kafkaEnv),
  ...parseEnv(clickhouseEnv),
  ...parseEnv(postgresEnv),
  ...parseEnv(redisEnv),
  ...parseEnv(s3Env),
};
const run = randomUUID().slice(0, 8);

describe('Kafka (kafkajs)', () => {
  const kafka = new Kafka({
    clientId: `stack-test-${run}`,
    brokers: env.KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const topic = `stack-test-${run}`;
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  test('idempotent producer with acks=all, consumer group reads it back', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 4}`, value: `v${i}` }));
    const [res] = await producer.send({ topic, acks: -1, messages: sent });
    expect(res?.errorCode).toBe(0);
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `stack-test-${run}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} of 20 consumed`)), 30_000);
      consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString());
          if (got.length === sent.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(got.sort()).toEqual(sent.map((m) => m.value).sort());
  });
});

describe('schema registry (@kafkajs/confluent-schema-registry)', () => {
  test('registers an Avro schema and round-trips a record in Confluent wire format', async () => {
    const registry = new SchemaRegistry({ host: env.SCHEMA_REGISTRY_URL });
    const schema = {
      type: 'record',
      name: 'Probe',
      namespace: `fitstream.test.r${run}`,
      fields: [
        { name: 'id', type: 'string' },
        { name: 'hr', type: ['null', 'int'], default: null },
      ],
    };
    const subject = `stack-test-${run}-value`;
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject },
    );
    expect(id).toBeGreaterThan(0);
    // Registering the same schema again is idempotent: same id.
    const again = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject },
    );
    expect(again.id).toBe(id);
    const buf = await registry.encode(id, { id: 'abc', hr: 142 });
    expect(buf[0]).toBe(0);
    expect(buf.readInt32BE(1)).toBe(id);
    expect(await registry.decode(buf)).toEqual({ id: 'abc', hr: 142 });
  });
});

describe('ClickHouse (@clickhouse/client)', () => {
  const ch = createClient({
    url: env.CLICKHOUSE_URL,
    username: env.CLICKHOUSE_USER,
    password: env.CLICKHOUSE_PASSWORD,
  });
  const table = `default.stack_test_${run}`;
  afterAll(async () => {
    await ch.command({ query: `DROP TABLE IF EXISTS ${table}` }).catch(() => {});
    await ch.close();
  });

  test('ping, create, insert JSONEachRow, select', async () => {
    expect((await ch.ping()).success).toBe(true);
    await ch.command({
      query: `CREATE TABLE ${table} (id UInt32, name String) ENGINE = MergeTree ORDER BY id`,
    });
    await ch.insert({
      table,
      values: [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ],
      format: 'JSONEachRow',
    });
    const rs = await ch.query({ query: `SELECT id, name FROM ${table} ORDER BY id`, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
  });
});

describe('PostgreSQL (pg)', () => {
  test('connects, migrations applied, transaction round trip', async () => {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('users','devices')",
      );
      expect(Number(rows[0]!.n)).toBe(2);
      await client.query('BEGIN');
      await client.query(`CREATE TEMP TABLE probe_${run} (v int)`);
      await client.query(`INSERT INTO probe_${run} VALUES (41), (1)`);
      const sum = await client.query<{ s: number }>(`SELECT sum(v)::int AS s FROM probe_${run}`);
      expect(sum.rows[0]!.s).toBe(42);
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
  });
});

describe('Redis (ioredis)', () => {
  test('set/get with expiry and pub/sub', async () => {
    const redis = new Redis(env.REDIS_URL);
    const sub = new Redis(env.REDIS_URL);
    try {
      await redis.set(`stack-test:${run}`, 'x', 'EX', 30);
      expect(await redis.get(`stack-test:${run}`)).toBe('x');
      expect(await redis.ttl(`stack-test:${run}`)).toBeGreaterThan(0);
      const channel = `stack-test:${run}:ch`;
      const received = new Promise<string>((resolve) => sub.on('message', (_c, m) => resolve(m)));
      await sub.subscribe(channel);
      await redis.publish(channel, 'hello');
      expect(await received).toBe('hello');
    } finally {
      redis.disconnect();
      sub.disconnect();
    }
  });
});

describe('S3 (@aws-sdk/client-s3)', () => {
  test('put and get an object in the archive bucket', async () => {
    const s3 = new S3Client({
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
    });
    const key = `stack-test/${run}/probe.txt`;
    await s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: key, Body: 'fitstream' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: env.S3_BUCKET, Key: key }));
    expect(await got.Body!.transformToString()).toBe('fitstream');
    s3.destroy();
  });
});

describe('Mosquitto (mqtt.js, MQTT 5)', () => {
  test('publishes and receives through a shared subscription', async () => {
    const url = process.env.MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1884';
    const opts = {
      protocolVersion: 5 as const,
      username: process.env.MOSQUITTO_USER ?? 'bridge',
      password: process.env.MOSQUITTO_PASSWORD ?? 'bridge',
    };
    const sub = await mqtt.connectAsync(url, { ...opts, clientId: `sub-${run}` });
    const pub = await mqtt.connectAsync(url, { ...opts, clientId: `pub-${run}` });
    try {
      const topic = `stack-test/${run}/t`;
      const got = new Promise<string>((resolve) => sub.on('message', (_t, m) => resolve(m.toString())));
      await sub.subscribeAsync(`$share/g${run}/${topic}`, { qos: 1 });
      await pub.publishAsync(topic, 'ping', { qos: 1 });
      expect(await got).toBe('ping');
    } finally {
      await sub.endAsync();
      await pub.endAsync();
    }
  });
});
