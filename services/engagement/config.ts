import { z } from 'zod';
import {
  bool,
  ConfigError,
  commonEnv,
  type EnvOf,
  type EnvShape,
  kafkaEnv,
  nonNegativeInt,
  port,
  positiveInt,
  postgresEnv,
} from '../common/config.js';

/**
 * Engagement settings. Every default matches the local stack; tests override the names (consumer
 * group, topics, database) to isolate themselves.
 */
export const engagementEnv = {
  ...commonEnv,
  ...kafkaEnv,
  ...postgresEnv,
  ENGAGEMENT_GROUP_ID: z.string().min(1).default('fitstream-engagement'),
  /**
   * Kafka transactional id of the outbox publisher: the same for every replica, so a replica that
   * takes over fences the producer of one that lost its lease (a zombie cannot publish after that)
   */
  ENGAGEMENT_TRANSACTIONAL_ID: z.string().min(1).default('fitstream-engagement-outbox'),
  ENGAGEMENT_OPS_HOST: z.string().min(1).default('127.0.0.1'),
  ENGAGEMENT_OPS_PORT: port.default(9403),
  /** read activities.v1 from the beginning when the group has no committed offset */
  ENGAGEMENT_FROM_BEGINNING: bool.default(true),
  /**
   * partitions of activities.v1 applied at once, each batch in its own transaction: a partition's
   * athletes are never another's (key = userId), so they only share the outbox insert
   */
  ENGAGEMENT_PARTITIONS_CONCURRENTLY: positiveInt.default(3),
  /** the outbox publisher looks for new rows this often (it is also woken by every commit) */
  ENGAGEMENT_OUTBOX_POLL_MS: positiveInt.default(500),
  /** at most this many outbox rows per Kafka transaction */
  ENGAGEMENT_OUTBOX_BATCH: positiveInt.default(500),
  /** how often recompute requests (API changes) and ended challenges are looked at */
  ENGAGEMENT_SWEEP_INTERVAL_MS: positiveInt.default(1000),
  /** back-off ceiling while PostgreSQL or Kafka is down (the service waits; it never skips) */
  ENGAGEMENT_RETRY_MAX_MS: positiveInt.default(5000),
  /** a day (and a week's activity) counts for streaks with at least this distance ... */
  ENGAGEMENT_STREAK_MIN_DISTANCE_M: nonNegativeInt.default(0),
  /** ... or at least this moving time; with both 0 every activity counts */
  ENGAGEMENT_STREAK_MIN_MOVING_S: nonNegativeInt.default(0),
  /** a week counts for the weekly streak with at least this many activities */
  ENGAGEMENT_WEEKLY_MIN_ACTIVITIES: positiveInt.default(1),
  /** time zone of athletes whose profile has none */
  ENGAGEMENT_DEFAULT_TIMEZONE: z.string().min(1).default('UTC'),
} satisfies EnvShape;

export type EngagementConfig = EnvOf<typeof engagementEnv>;

export function checkEngagementConfig(c: EngagementConfig): EngagementConfig {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: c.ENGAGEMENT_DEFAULT_TIMEZONE });
  } catch {
    throw new ConfigError('ENGAGEMENT_DEFAULT_TIMEZONE', 'an IANA time zone', c.ENGAGEMENT_DEFAULT_TIMEZONE);
  }
  return c;
}
