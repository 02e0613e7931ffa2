import { join } from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  clickhouseEnv,
  commonEnv,
  type EnvOf,
  kafkaEnv,
  nonNegativeInt,
  port,
  positiveInt,
  postgresEnv,
  redisEnv,
  s3Env,
} from '../common/config.js';

export const apiEnv = {
  ...commonEnv,
  ...postgresEnv,
  ...redisEnv,
  ...clickhouseEnv,
  // uploads go to TOPIC_SAMPLES; the stats invalidator reads TOPIC_ACTIVITIES; the failure recorder TOPIC_DLQ
  ...kafkaEnv,
  // file imports keep the uploaded bytes in S3 (S3_BUCKET) under API_IMPORT_PREFIX
  ...s3Env,
  API_IMPORT_PREFIX: z.string().min(1).default('imports'),
  /** account exports written as a job (POST /v1/users/me/exports) go to S3_BUCKET under this prefix */
  API_EXPORT_PREFIX: z.string().min(1).default('exports'),
  /** the imports this API's runner takes (services/api/import-runner.ts); every replica of one deployment shares it */
  API_IMPORT_QUEUE: z.string().min(1).default('default'),
  /** how long a runner's claim on an import holds without renewal (renewed per file) */
  API_IMPORT_LEASE_MS: positiveInt.default(30_000),
  /** worker threads that unpack, parse and encode imported files (0: on the event loop); started on demand */
  API_IMPORT_THREADS: nonNegativeInt.default(1),
  /** the consumer group on activities.v1 that invalidates cached stats (services/api/stats-cache.ts) */
  API_STATS_GROUP_ID: z.string().min(1).default('fitstream-api-stats'),
  /** the consumer group on activities.v1 that keeps points in step with activities (services/api/points-store.ts) */
  API_POINTS_GROUP_ID: z.string().min(1).default('fitstream-api-points'),
  /** the consumer group on telemetry.dlq.v1 that records why uploads and imports failed (services/api/activity-failures.ts) */
  API_FAILURES_GROUP_ID: z.string().min(1).default('fitstream-api-failures'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** per caller on authenticated routes, per client address on anonymous ones (counted in Redis) */
  API_RATE_LIMIT_PER_MIN: positiveInt.default(600),
  /** sign-in and sign-up attempts per client address per minute */
  API_AUTH_RATE_LIMIT_PER_IP_PER_MIN: positiveInt.default(20),
  /** sign-in and sign-up attempts per e-mail per 15 minutes */
  API_AUTH_RATE_LIMIT_PER_ACCOUNT_PER_15_MIN: positiveInt.default(10),
  /**
   * comma-separated addresses or CIDRs of the reverse proxies whose X-Forwarded-For is believed (the
   * client address for rate limits and logs); '' = none, the socket's peer is the client
   */
  API_TRUSTED_PROXIES: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .refine((xs) => xs.every((x) => /^[0-9A-Fa-f.:]+(\/\d{1,3})?$/.test(x)), {
      message: 'a comma-separated list of IP addresses or CIDRs',
    })
    .default([]),
  API_BODY_LIMIT_BYTES: positiveInt.default(1024 * 1024),
  /** what devices are told to connect to */
  MQTT_PUBLIC_URL: z
    .string()
    .refine((s) => /^(mqtts?|wss?):\/\//.test(s), { message: 'an mqtt://, mqtts://, ws:// or wss:// URL' })
    .default('mqtt://127.0.0.1:1883'),
  /** the local stack's data folder (infra/local/up), where the development signing key lives */
  FITSTREAM_DATA_DIR: z.string().min(1).default('.data'),
  /**
   * JSON Web Key Set of the Ed25519 private keys that sign access tokens (services/api/auth/signing-keys.ts);
   * the first signs, all verify. '' = the development key $FITSTREAM_DATA_DIR/auth/jwt-keys.json, written by
   * infra/local/up; refused when NODE_ENV=production.
   */
  API_JWT_KEYS_FILE: z.string().default(''),
  API_JWT_ISSUER: z.string().min(1).default('https://fitstream.dev'),
  API_JWT_AUDIENCE: z.string().min(1).default('fitstream-api'),
  /** access token lifetime; also how long a token outlives a logout or a role change */
  API_ACCESS_TOKEN_TTL_S: positiveInt.max(3600).default(900),
  API_REFRESH_TOKEN_TTL_S: positiveInt.default(30 * 24 * 3600),
  /** the built web app served under /app (docs/web-app.md); '' = the build beside the code (web/dist) */
  API_WEB_ROOT: z.string().default(''),
  /**
   * a raster tile URL template with {z}, {x}, {y} (e.g. https://tile.example.org/{z}/{x}/{y}.png) that gives
   * the web app's maps a base map (Leaflet); '' = routes on a plain canvas, no network needed
   */
  API_WEB_TILE_URL: z
    .string()
    .refine(
      (s) => s === '' || (/^https?:\/\//.test(s) && ['{z}', '{x}', '{y}'].every((p) => s.includes(p))),
      {
        message: "'' or an http(s) URL with {z}, {x} and {y}",
      },
    )
    .default(''),
};
export type ApiConfig = EnvOf<typeof apiEnv>;

/** The signing-key file the API reads: the configured one, or the development key of the data folder. */
export const jwtKeysFile = (c: Pick<ApiConfig, 'API_JWT_KEYS_FILE' | 'FITSTREAM_DATA_DIR'>): string =>
  c.API_JWT_KEYS_FILE || join(c.FITSTREAM_DATA_DIR, 'auth', 'jwt-keys.json');

/** Rules between settings. */
export function checkApiConfig(c: ApiConfig): ApiConfig {
  if (c.NODE_ENV === 'production' && c.API_JWT_KEYS_FILE === '')
    throw new ConfigError(
      'API_JWT_KEYS_FILE',
      'a key file of your own in production, not the development key',
      '',
    );
  return c;
}
