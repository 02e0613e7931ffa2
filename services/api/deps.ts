import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { ExportStore } from './account-exports.js';
import type { AccessTokens } from './auth/access-tokens.js';
import type { ImportStore } from './imports-s3.js';
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
  /**
   * file imports (POST /v1/imports): where uploads are kept, the queue they join, and the runner to wake
   * (services/api/import-runner.ts); absent: POST /v1/imports answers 503
   */
  imports?: { store: ImportStore; queue: string; wake(): void };
  /**
   * account exports as a job (POST /v1/users/me/exports): where the zips are kept; a runner in this process
   * writes them (routes/account-export.ts). Absent: those routes answer 503
   */
  exports?: { store: ExportStore; queue: string; ttlMs?: number };
  /**
   * set where a StatsInvalidator bumps the athletes' generations on activities.v1 (main.ts): the activity list
   * and progress reads of ClickHouse are then cached in Redis under them, as the stats are (stats-cache.ts).
   * Absent, they read ClickHouse each time: a stack without the invalidator (most tests) would otherwise
   * answer from a cache that nothing invalidates.
   */
  activityGenerations?: boolean;
}
