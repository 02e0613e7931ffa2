import { z } from 'zod';
import { DEFAULT_LIMITS } from '../../schemas/payload.js';
import {
  ConfigError,
  commonEnv,
  type EnvOf,
  kafkaEnv,
  parseEnv,
  port,
  positiveInt,
  postgresEnv,
  redisEnv,
} from '../common/config.js';

/**
 * Gateway settings. Every default matches the local stack; sizes are bytes, times are ms.
 *
 * - GATEWAY_MODE: `embedded` runs the aedes broker (MQTT 3.1.1 on TCP and WebSocket) and authenticates
 *   devices itself; `bridge` subscribes to an external MQTT 5 broker with a shared subscription and leaves
 *   device auth to that broker.
 * - BATCH_WINDOW_MS / BATCH_MAX_BYTES: messages of all devices are coalesced into one Kafka produce call
 *   at most this long / this big. A record is still one MQTT message, keyed by session.
 * - INFLIGHT_HIGH_BYTES / INFLIGHT_LOW_BYTES: bytes waiting for Kafka. Above the high mark no new message is
 *   admitted (sockets stop being read, PUBACKs wait) until the backlog drains below the low mark.
 */
export const gatewayEnv = {
  ...commonEnv,
  ...kafkaEnv,
  ...postgresEnv,
  ...redisEnv,
  GATEWAY_MODE: z.enum(['embedded', 'bridge']).default('embedded'),
  GATEWAY_HOST: z.string().min(1).default('0.0.0.0'),
  MQTT_PORT: port.default(1883),
  MQTT_WS_PORT: port.default(8083),
  OPS_HOST: z.string().min(1).default('0.0.0.0'),
  OPS_PORT: port.default(9401),
  BRIDGE_URL: z
    .string()
    .refine((s) => /^mqtts?:\/\/[^\s/]+/.test(s) && URL.canParse(s), { message: 'an mqtt(s):// URL' })
    .default('mqtt://127.0.0.1:1884'),
  BRIDGE_USERNAME: z.string().default(''),
  BRIDGE_PASSWORD: z.string().default(''),
  BRIDGE_SHARE_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'a share group name ([A-Za-z0-9_-]+)' })
    .default('fitstream-gateway'),
  BRIDGE_CLIENT_ID: z.string().default(''),
  BRIDGE_RECEIVE_MAXIMUM: z.coerce.number().int().min(1).max(65535).default(1024),
  /** bridge mode: how long a device's owner is reused when revocations arrive over Redis */
  BRIDGE_OWNER_CACHE_MS: positiveInt.default(60_000),
  BATCH_WINDOW_MS: z.coerce.number().int().min(1).max(1000).default(10),
  BATCH_MAX_BYTES: positiveInt.default(1_000_000),
  INFLIGHT_HIGH_BYTES: positiveInt.default(64 * 1024 * 1024),
  INFLIGHT_LOW_BYTES: positiveInt.default(48 * 1024 * 1024),
  KAFKA_REQUEST_TIMEOUT_MS: positiveInt.default(10_000),
  MAX_PAYLOAD_BYTES: positiveInt.default(DEFAULT_LIMITS.maxPayloadBytes),
  MAX_SAMPLES_PER_BATCH: positiveInt.default(DEFAULT_LIMITS.maxSamplesPerBatch),
  MAX_FUTURE_MS: positiveInt.default(DEFAULT_LIMITS.maxFutureMs),
  MAX_AGE_MS: positiveInt.default(DEFAULT_LIMITS.maxAgeMs),
  ABUSE_MAX_REJECTS: positiveInt.default(100),
  ABUSE_WINDOW_MS: positiveInt.default(60_000),
  TOKEN_CACHE_TTL_MS: positiveInt.default(5_000),
  SHUTDOWN_GRACE_MS: positiveInt.default(25_000),
};

export type GatewayConfig = EnvOf<typeof gatewayEnv>;

/** Rules that relate two settings. Each names the variable that has to change. */
export function checkGatewayConfig(c: GatewayConfig): GatewayConfig {
  if (c.BATCH_MAX_BYTES < c.MAX_PAYLOAD_BYTES + 1024) {
    throw new ConfigError(
      'BATCH_MAX_BYTES',
      `at least MAX_PAYLOAD_BYTES + 1024 (${c.MAX_PAYLOAD_BYTES + 1024}) so one message always fits a batch`,
      String(c.BATCH_MAX_BYTES),
    );
  }
  if (c.INFLIGHT_LOW_BYTES >= c.INFLIGHT_HIGH_BYTES) {
    throw new ConfigError(
      'INFLIGHT_LOW_BYTES',
      `less than INFLIGHT_HIGH_BYTES (${c.INFLIGHT_HIGH_BYTES})`,
      String(c.INFLIGHT_LOW_BYTES),
    );
  }
  if (c.INFLIGHT_HIGH_BYTES < 2 * c.BATCH_MAX_BYTES) {
    throw new ConfigError(
      'INFLIGHT_HIGH_BYTES',
      `at least 2 x BATCH_MAX_BYTES (${2 * c.BATCH_MAX_BYTES}) so one batch can fill while another is produced`,
      String(c.INFLIGHT_HIGH_BYTES),
    );
  }
  if (c.GATEWAY_MODE === 'embedded' && c.MQTT_PORT !== 0 && c.MQTT_PORT === c.MQTT_WS_PORT) {
    throw new ConfigError('MQTT_WS_PORT', 'a port different from MQTT_PORT', String(c.MQTT_WS_PORT));
  }
  return c;
}

/** Parse and check the gateway's env. Throws ConfigError naming the first bad variable. */
export function parseGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return checkGatewayConfig(parseEnv(gatewayEnv, env));
}
