import { randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { expect } from 'vitest';
import { type ExportStore, s3ExportStore } from '../../services/api/account-exports.js';
import { buildApp } from '../../services/api/app.js';
import { ImportRunner } from '../../services/api/import-runner.js';
import { type ImportStore, s3ImportStore } from '../../services/api/imports-s3.js';
import { kafkaTelemetryProducer } from '../../services/api/producer-kafka.js';
import {
  clickhouseEnv,
  kafkaEnv,
  parseEnv,
  postgresEnv,
  redisEnv,
  s3Env,
} from '../../services/common/config.js';
import { createLogger } from '../../services/common/logger.js';
import { createMetricsRegistry } from '../../services/common/metrics.js';
import { applyWorkerSchema } from '../../services/worker/clickhouse-schema.js';
import { testAuth } from './api-auth.js';
import { privateDatabase } from './engagement-stack.js';

/** A registered, signed-in user: their id, e-mail and the Authorization header of their access token. */
export interface SignedIn {
  id: string;
  email: string;
  name: string;
  auth: { authorization: string };
}

export const TEST_PASSWORD = 'a long enough passphrase';

/**
 * The API built as main.ts builds it, against the real PostgreSQL, Redis and ClickHouse of the local
 * stack (ClickHouse tables in a database of their own per run), listening on a free port for the tests
 * that need a socket (SSE).
 */
export interface ApiStack {
  app: FastifyInstance;
  pool: pg.Pool;
  redis: Redis;
  clickhouse: ClickHouseClient;
  database: string;
  run: string;
  /** the topic that uploads (POST /v1/activities) go to */
  samplesTopic: string;
  /** the queue of this stack's imports (POST /v1/imports), and its runner when `imports.run` was asked */
  importQueue: string;
  importStore: ImportStore;
  importRunner: ImportRunner | undefined;
  /** where this stack's account exports keep their zips (its export runner works on `importQueue`) */
  exportStore: ExportStore;
  /** where the API's ActivityDeleted events go */
  activitiesTopic: string;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** registers and signs in a user; roles are granted in PostgreSQL first, as the operator script does */
  user(opts?: { roles?: ('support' | 'admin')[]; name?: string }): Promise<SignedIn>;
  signIn(email: string): Promise<{ access_token: string; refresh_token: string }>;
  close(): Promise<void>;
}

/**
 * `samplesTopic`: where uploads go (a worker of the test may read it); default a private topic created here
 * and deleted on close; `activitiesTopic` likewise for the API's ActivityDeleted events. `database`: the ClickHouse database to read (a worker's, which owns it); default a
 * private one with the worker's tables, dropped on close. `kafkaBrokers`: where uploads are produced (default the
 * stack's; an address nobody listens on stands for Kafka being away).
 */
export async function startApiStack(
  opts: {
    samplesTopic?: string;
    activitiesTopic?: string;
    database?: string;
    kafkaBrokers?: string[];
    /**
     * file imports: `run` starts a runner on the stack's queue (`queue`, default one of its own, so that no
     * other test's runner takes its imports; two stacks given one queue share the work, as replicas do)
     */
    imports?: { run?: boolean; queue?: string; leaseMs?: number };
    /** a PostgreSQL database of its own with every migration applied (global state such as the points rules) */
    privatePg?: boolean;
    /** the test runs a StatsInvalidator on the athletes' generations: cache list and progress reads (deps.ts) */
    activityGenerations?: boolean;
    /** the web app's build to serve under /app (default: web/dist) */
    webRoot?: string;
  } = {},
): Promise<ApiStack> {
  const env = {
    ...parseEnv(postgresEnv),
    ...parseEnv(redisEnv),
    ...parseEnv(clickhouseEnv),
    ...parseEnv(kafkaEnv),
    ...parseEnv(s3Env),
  };
  const run = randomUUID().slice(0, 8);
  const importQueue = opts.imports?.queue ?? `apitest-${run}`;
  const s3 = new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
  });
  const importStore = s3ImportStore(s3, env.S3_BUCKET, `apitest/imports/${importQueue}`);
  const exportStore = s3ExportStore(s3, env.S3_BUCKET, `apitest/exports/${importQueue}`);
  const database = opts.database ?? `api_test_${run}`;
  const samplesTopic = opts.samplesTopic ?? `apitest.samples.${run}`;
  const activitiesTopic = opts.activitiesTopic ?? `apitest.activities.${run}`;
  const kafka = new Kafka({
    clientId: `apitest-${run}`,
    brokers: env.KAFKA_BROKERS,
    logLevel: logLevel.ERROR,
  });
  const own = [
    ...(opts.samplesTopic ? [] : [samplesTopic]),
    ...(opts.activitiesTopic ? [] : [activitiesTopic]),
  ];
  if (own.length > 0) {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: own.map((topic) => ({ topic, numPartitions: 1 })),
      waitForLeaders: true,
    });
    await admin.disconnect();
  }
  const telemetry = kafkaTelemetryProducer({
    brokers: opts.kafkaBrokers ?? env.KAFKA_BROKERS,
    clientId: `apitest-${run}`,
    registryUrl: env.SCHEMA_REGISTRY_URL,
    topic: samplesTopic,
    activitiesTopic,
    logger: createLogger('api-test-kafka', 'silent'),
  });
  // privatePg: a PostgreSQL database of its own with every migration applied (global state such as the
  // points rules stays the test's own); otherwise the stack's
  const privatePg = opts.privatePg ? await privateDatabase() : null;
  const pool = privatePg?.pool ?? new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
  const redis = new Redis(env.REDIS_URL);
  const subs: Redis[] = [];
  const clickhouse = createClient({ url: env.CLICKHOUSE_URL });
  if (!opts.database) await applyWorkerSchema(clickhouse, database);
  const importRunner = opts.imports?.run
    ? new ImportRunner({
        pg: pool,
        store: importStore,
        telemetry,
        logger: createLogger('api-test-imports', 'warn'),
        queue: importQueue,
        leaseMs: opts.imports.leaseMs,
        pollMs: 250,
      })
    : undefined;
  // the API's own tables (activity_points) beside the worker's, in whichever database it reads
  await applyWorkerSchema(clickhouse, database, 'api');
  const app = await buildApp({
    logger: createLogger('api-test', 'silent'),
    registry: createMetricsRegistry('api_test'),
    rateLimitPerMinute: 100_000,
    // per-address counters are shared by every test on this machine (one Redis, one 127.0.0.1)
    authRateLimits: { perIpPerMinute: 100_000, perAccountPer15Min: 100_000 },
    // the API's default (API_BODY_LIMIT_BYTES), so schemathesis meets the limits a deployment has
    bodyLimitBytes: 1024 * 1024,
    checks: [{ name: 'postgres', check: async () => void (await pool.query('SELECT 1')) }],
    ...(opts.webRoot ? { web: { root: opts.webRoot } } : {}),
    deps: {
      pg: pool,
      redis,
      redisSub: () => {
        const r = new Redis(env.REDIS_URL);
        subs.push(r);
        return r;
      },
      clickhouse,
      clickhouseDatabase: database,
      mqttPublicUrl: 'mqtt://127.0.0.1:1883',
      auth: await testAuth(),
      telemetry,
      imports: { store: importStore, queue: importQueue, wake: () => importRunner?.wake() },
      // account exports as a job: a runner in the app, on this stack's own queue
      exports: {
        store: s3ExportStore(s3, env.S3_BUCKET, `apitest/exports/${importQueue}`),
        queue: importQueue,
      },
      ...(opts.activityGenerations ? { activityGenerations: true } : {}),
    },
  });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  importRunner?.start();

  const signIn = async (email: string) => {
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: TEST_PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    return login.json() as { access_token: string; refresh_token: string };
  };
  let n = 0;
  const user: ApiStack['user'] = async (opts = {}) => {
    const email = `user-${run}-${++n}@example.com`;
    const name = opts.name ?? `User ${n}`;
    const u = await app.inject({
      method: 'POST',
      url: '/v1/users',
      payload: { email, password: TEST_PASSWORD, name, timezone: 'Europe/Zurich' },
    });
    expect(u.statusCode).toBe(201);
    const id = (u.json() as { id: string }).id;
    for (const role of opts.roles ?? [])
      await pool.query(`INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, $2, 'test')`, [
        id,
        role,
      ]);
    const { access_token } = await signIn(email);
    return { id, email, name, auth: { authorization: `Bearer ${access_token}` } };
  };

  return {
    app,
    pool,
    redis,
    clickhouse,
    database,
    run,
    samplesTopic,
    importQueue,
    importStore,
    importRunner,
    exportStore,
    activitiesTopic,
    baseUrl,
    user,
    signIn,
    close: async () => {
      await app.close();
      await importRunner?.close({ release: true });
      await telemetry.close();
      s3.destroy();
      if (own.length > 0) {
        const admin = kafka.admin();
        await admin.connect();
        await admin.deleteTopics({ topics: own }).catch(() => {});
        await admin.disconnect();
      }
      if (!opts.database) await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await Promise.all([privatePg ? privatePg.drop() : pool.end(), clickhouse.close()]);
      redis.disconnect();
      for (const s of subs) s.disconnect();
    },
  };
}

/** An SSE stream opened over the socket: its status, and the events it sends until it ends. */
export async function openStream(url: string, headers: Record<string, string>) {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  let text = '';
  let ended = false;
  const done =
    res.status === 200 && res.body
      ? (async () => {
          const decoder = new TextDecoder();
          try {
            for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
              text += decoder.decode(chunk, { stream: true });
          } catch {
            // aborted by close()
          }
          ended = true;
        })()
      : Promise.resolve();
  return {
    status: res.status,
    text: () => text,
    ended: () => ended,
    /** resolves when the server ends the stream */
    done,
    close: () => ac.abort(),
  };
}
