import { z } from 'zod';
import {
  bool,
  ConfigError,
  clickhouseEnv,
  commonEnv,
  type EnvOf,
  type EnvShape,
  kafkaEnv,
  nonNegativeInt,
  port,
  positiveInt,
  postgresEnv,
  redisEnv,
  s3Env,
} from '../common/config.js';

/**
 * Worker settings. Every default matches the local stack; tests override the names (consumer
 * group, ClickHouse database, S3 prefix) to isolate themselves.
 */
export const workerEnv = {
  ...commonEnv,
  ...kafkaEnv,
  ...clickhouseEnv,
  ...redisEnv,
  ...s3Env,
  ...postgresEnv,
  WORKER_GROUP_ID: z.string().min(1).default('fitstream-worker'),
  WORKER_OPS_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_OPS_PORT: port.default(9402),
  /** flush every sink (and then commit offsets) at least this often while data is buffered */
  WORKER_FLUSH_INTERVAL_MS: positiveInt.default(1000),
  /** ... or as soon as this many samples are buffered */
  WORKER_BATCH_ROWS: positiveInt.default(50_000),
  /** a session with no new data for this long is finalised without an end message */
  WORKER_SESSION_TIMEOUT_S: positiveInt.default(600),
  /**
   * after a restart or rebalance, sessions that a flush carried within this many hours and that
   * were never announced are recovered and finalised; older ones are not looked at
   */
  WORKER_RECOVERY_WINDOW_H: positiveInt.default(168),
  /** how often the worker looks for timed-out sessions */
  WORKER_SWEEP_INTERVAL_MS: positiveInt.default(5000),
  /** raw archive objects group records of one partition per window of this many seconds */
  WORKER_ARCHIVE_WINDOW_S: positiveInt.default(300),
  /** key prefix inside the bucket for the raw archive */
  WORKER_ARCHIVE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._/-]*$/, 'an S3 key prefix of letters, digits, . _ / -')
    .default('raw'),
  /**
   * the live view (Redis) is pushed this often, apart from the durable flush: device → live latency is
   * about this plus the gateway's and Kafka's share, not the flush interval
   */
  WORKER_LIVE_INTERVAL_MS: positiveInt.default(250),
  /** live state hashes expire this long after the session ended (or went quiet) */
  WORKER_LIVE_TTL_S: positiveInt.default(3600),
  /** read the topic from the beginning when the group has no committed offset */
  WORKER_FROM_BEGINNING: bool.default(true),
  /** back-off ceiling while a sink is down (the worker waits; it never drops or skips) */
  WORKER_RETRY_MAX_MS: positiveInt.default(5000),
  /** athlete profiles (users: max/resting HR, birth year, weight) are re-read after this many seconds */
  WORKER_PROFILE_TTL_S: positiveInt.default(60),
  /**
   * memory (MiB) for in-memory copies of the samples of sessions this worker wrote from their first
   * record, so their finalisation skips the ClickHouse read-back (55 bytes per sample); beyond it the
   * oldest sessions are read back. 0 reads every session back.
   */
  WORKER_FINALISE_MEMORY_MB: nonNegativeInt.default(256),
} satisfies EnvShape;

export type WorkerConfig = EnvOf<typeof workerEnv>;

/** Cross-field rules that a single variable's schema cannot express. */
export function checkWorkerConfig(c: WorkerConfig): WorkerConfig {
  if (c.WORKER_SWEEP_INTERVAL_MS > c.WORKER_SESSION_TIMEOUT_S * 1000) {
    throw new ConfigError(
      'WORKER_SWEEP_INTERVAL_MS',
      `at most WORKER_SESSION_TIMEOUT_S*1000 (${c.WORKER_SESSION_TIMEOUT_S * 1000})`,
      String(c.WORKER_SWEEP_INTERVAL_MS),
    );
  }
  if (c.WORKER_RECOVERY_WINDOW_H * 3600 <= c.WORKER_SESSION_TIMEOUT_S) {
    throw new ConfigError(
      'WORKER_RECOVERY_WINDOW_H',
      `more than WORKER_SESSION_TIMEOUT_S/3600 (${c.WORKER_SESSION_TIMEOUT_S / 3600})`,
      String(c.WORKER_RECOVERY_WINDOW_H),
    );
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.CLICKHOUSE_DATABASE)) {
    throw new ConfigError(
      'CLICKHOUSE_DATABASE',
      'an identifier ([A-Za-z_][A-Za-z0-9_]*)',
      c.CLICKHOUSE_DATABASE,
    );
  }
  return c;
}
