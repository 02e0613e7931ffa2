import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { AccessTokens } from './auth/access-tokens.js';
import type { TelemetryProducer } from './producer-kafka.js';

/** What the routes need from the outside world; built in main.ts, or by tests against the real stack. */
export interface ApiDeps {
  pg: pg.Pool;
  redis: Redis;
  /** a second connection for SUBSCRIBE (a subscribed ioredis connection can't run commands) */
  redisSub: () => Redis;
  clickhouse: ClickHouseClient;
  clickhouseDatabase: string;
  mqttPublicUrl: string;
  auth: { tokens: AccessTokens; refreshTokenTtlS: number };
  /** where uploads go (telemetry.samples.v1); absent: POST /v1/activities answers 503 */
  telemetry?: TelemetryProducer;
}
