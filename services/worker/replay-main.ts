// CLI: rebuild ClickHouse samples and activities from the S3 raw archive.
//   npx tsx services/worker/replay-main.ts [--from 2026-11-01T00:00Z] [--to 2026-12-01T00:00Z]
//       [--user USER_ID] [--database DB] [--prefix raw] [--algorithm-version 2026.11-1] [--publish]
// Env: the worker's (CLICKHOUSE_*, S3_*, SCHEMA_REGISTRY_URL, KAFKA_*, DATABASE_URL for profiles). --database creates the
// database and tables if needed, so a rebuild can go into a fresh database and be compared.
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createClickHouse, createPostgres, createS3 } from './app.js';
import { PgAthleteProfiles } from './athletes.js';
import { applyWorkerSchema } from './clickhouse-schema.js';
import { createRecordCodec } from './codec.js';
import { computeActivity } from './compute.js';
import { checkWorkerConfig, workerEnv } from './config.js';
import { allDeletedSessions } from './deleted-activities.js';
import { pgDeletedUsers } from './deleted-users.js';
import { KafkaPublisher } from './publisher-kafka.js';
import { progressLine, replay } from './replay.js';
import { ClickHouseSink } from './sink-clickhouse.js';
import { S3Archive } from './sink-s3.js';
import { ClickHouseSessionStore } from './store-clickhouse.js';

function time(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) {
    process.stderr.write(
      `replay: --${name} ${JSON.stringify(v)} is not a date (ISO 8601) or ms since epoch\n`,
    );
    process.exit(2);
  }
  return ms;
}

const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    user: { type: 'string' },
    database: { type: 'string' },
    prefix: { type: 'string' },
    'algorithm-version': { type: 'string' },
    publish: { type: 'boolean', default: false },
  },
});
const base = checkWorkerConfig(loadConfigOrExit('worker', workerEnv));
const config = {
  ...base,
  CLICKHOUSE_DATABASE: values.database ?? base.CLICKHOUSE_DATABASE,
  WORKER_ARCHIVE_PREFIX: values.prefix ?? base.WORKER_ARCHIVE_PREFIX,
};
const logger = createLogger('replay', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
const ch = createClickHouse(config);
if (values.database) await applyWorkerSchema(ch, values.database);
const sink = new ClickHouseSink(ch, config.CLICKHOUSE_DATABASE);
const store = new ClickHouseSessionStore(ch, config.CLICKHOUSE_DATABASE);
const archive = new S3Archive(createS3(config), {
  bucket: config.S3_BUCKET,
  prefix: config.WORKER_ARCHIVE_PREFIX,
  windowS: config.WORKER_ARCHIVE_WINDOW_S,
});
const codec = createRecordCodec(config.SCHEMA_REGISTRY_URL);
let publisher: KafkaPublisher | undefined;
if (values.publish) {
  const kafka = new Kafka({
    clientId: 'fitstream-replay',
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.WARN,
  });
  publisher = new KafkaPublisher(kafka, codec, {
    activities: config.TOPIC_ACTIVITIES,
    dlq: config.TOPIC_DLQ,
  });
  await publisher.connect();
}
const pool = createPostgres(config);
const tty = process.stderr.isTTY;
const result = await replay(
  {
    archive,
    sink,
    store,
    codec,
    compute: computeActivity,
    logger,
    publisher,
    athletes: new PgAthleteProfiles(pool, { ttlMs: config.WORKER_PROFILE_TTL_S * 1000 }),
    deletedUsers: pgDeletedUsers(pool),
    deletedSessions: () => allDeletedSessions(pool),
  },
  {
    from: time(values.from, 'from'),
    to: time(values.to, 'to'),
    userId: values.user,
    topic: config.TOPIC_SAMPLES,
    algorithmVersion: values['algorithm-version'],
    retryMaxMs: config.WORKER_RETRY_MAX_MS,
    chunkRows: config.WORKER_BATCH_ROWS,
    onProgress: (p) => process.stderr.write(tty ? `\r${progressLine(p)}` : `${progressLine(p)}\n`),
  },
);
if (tty) process.stderr.write('\n');
process.stdout.write(`${JSON.stringify(result)}\n`);
await publisher?.disconnect();
await sink.close();
await archive.close();
await pool.end();
