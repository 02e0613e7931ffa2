import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { REVOCATION_CHANNEL } from '../../schemas/device-tokens.js';
import type { SchemaIds } from '../../schemas/registry.js';
import { lookupDeviceOwner, verifyDevice } from '../common/device-tokens.js';
import type { Logger } from '../common/logger.js';
import { Batcher, type SendBatch } from './batcher.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './broker-embedded.js';
import type { GatewayConfig } from './config.js';
import { Ingest } from './ingest.js';
import { LastSeen } from './last-seen.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { type MqttBridge, startMqttBridge } from './source-mqtt.js';

export interface GatewayDeps {
  pg: pg.Pool;
  /** token cache; null reads PostgreSQL on every CONNECT */
  redis: Redis | null;
  /** a dedicated connection for the revocation channel (embedded mode); null: rely on the cache TTL */
  redisSub: Redis | null;
  schemaIds: SchemaIds;
  /** the Kafka producer's send (acks=all) */
  send: SendBatch;
  registry: Registry;
  logger: Logger;
}

export interface Gateway {
  readonly metrics: GatewayMetrics;
  readonly batcher: Batcher;
  readonly ingest: Ingest;
  /** embedded mode */
  readonly broker: EmbeddedBroker | null;
  /** bridge mode */
  readonly bridge: MqttBridge | null;
  /** write pending devices.last_seen_at updates now (they are batched every 30 s) */
  flushLastSeen(): Promise<void>;
  /**
   * Graceful stop: stop accepting, flush what was admitted to Kafka, send those acknowledgements, close
   * connections. What was never admitted is never acknowledged, so devices resend it.
   */
  close(): Promise<void>;
}

/** Builds and starts the gateway from its config and already-connected dependencies. */
export async function startGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const { logger } = deps;
  const probes: { backlogBytes?: () => number } = {};
  const metrics = createGatewayMetrics(deps.registry, probes);
  let backpressureSince = 0;
  const batcher = new Batcher({
    send: deps.send,
    windowMs: config.BATCH_WINDOW_MS,
    maxBytes: config.BATCH_MAX_BYTES,
    highBytes: config.INFLIGHT_HIGH_BYTES,
    lowBytes: config.INFLIGHT_LOW_BYTES,
    observer: {
      flushed(records, bytes, ms) {
        metrics.batchRecords.observe(records);
        metrics.batchBytes.observe(bytes);
        metrics.produceLatency.observe(ms / 1000);
      },
      retrying(err, attempt, delayMs) {
        metrics.produceRetries.inc();
        logger.warn({ err, attempt, delayMs }, 'Kafka produce failed, retrying batch');
      },
      backpressure(on) {
        metrics.backpressureActive.set(on ? 1 : 0);
        if (on) {
          backpressureSince = performance.now();
          logger.warn('back-pressure on: Kafka is behind, pausing reads');
        } else {
          metrics.backpressureSeconds.inc((performance.now() - backpressureSince) / 1000);
          logger.info('back-pressure off');
        }
      },
    },
  });
  probes.backlogBytes = () => batcher.backlogBytes;

  const ingest = new Ingest({
    batcher,
    schemaIds: deps.schemaIds,
    topicSamples: config.TOPIC_SAMPLES,
    topicDlq: config.TOPIC_DLQ,
    limits: {
      maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
      maxSamplesPerBatch: config.MAX_SAMPLES_PER_BATCH,
      maxFutureMs: config.MAX_FUTURE_MS,
      maxAgeMs: config.MAX_AGE_MS,
    },
    metrics,
  });
  const tokenDeps = { pg: deps.pg, redis: deps.redis, ttlMs: config.TOKEN_CACHE_TTL_MS };

  let broker: EmbeddedBroker | null = null;
  let bridge: MqttBridge | null = null;
  const lastSeen = config.GATEWAY_MODE === 'embedded' ? new LastSeen(deps.pg, logger) : null;
  if (config.GATEWAY_MODE === 'embedded') {
    broker = await startEmbeddedBroker({
      host: config.GATEWAY_HOST,
      port: config.MQTT_PORT,
      wsPort: config.MQTT_WS_PORT,
      ingest,
      authenticate: async (deviceId, password) => {
        const r = await verifyDevice(tokenDeps, deviceId, password);
        if (r.ok) lastSeen?.mark(deviceId);
        return r;
      },
      // headroom for the topic and MQTT header; a bigger payload is refused in the DLQ, a much bigger
      // packet closes the connection before it is buffered
      maxPacketBytes: config.MAX_PAYLOAD_BYTES * 2 + 1024,
      abuseMaxRejects: config.ABUSE_MAX_REJECTS,
      abuseWindowMs: config.ABUSE_WINDOW_MS,
      metrics,
      logger: logger.child({ component: 'broker' }),
    });
    logger.info({ mqtt: broker.port, ws: broker.wsPort }, 'embedded broker listening');
  } else {
    bridge = startMqttBridge({
      url: config.BRIDGE_URL,
      username: config.BRIDGE_USERNAME,
      password: config.BRIDGE_PASSWORD,
      clientId:
        config.BRIDGE_CLIENT_ID ||
        `fitstream-gateway-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      shareGroup: config.BRIDGE_SHARE_GROUP,
      receiveMaximum: config.BRIDGE_RECEIVE_MAXIMUM,
      ingest,
      resolveOwner: (deviceId) => lookupDeviceOwner(tokenDeps, deviceId),
      // Revocations arrive over Redis (forgetOwner below), so an owner can be kept for a minute rather than
      // the token cache's 5 s: at 15k devices the 5 s look-ups were ~3,000 queries/s, 15 % of a core in
      // PostgreSQL. Without a Redis subscriber the token cache's TTL bounds the revocation delay as before.
      ownerCacheMs: deps.redisSub ? config.BRIDGE_OWNER_CACHE_MS : config.TOKEN_CACHE_TTL_MS,
      metrics,
      logger: logger.child({ component: 'bridge' }),
    });
  }
  if (deps.redisSub) {
    const b = broker;
    const br = bridge;
    // not awaited: Redis down must not keep the gateway from starting (ioredis subscribes once it
    // connects, and again after every reconnect); the cache TTL bounds revocation delay meanwhile
    deps.redisSub.subscribe(REVOCATION_CHANNEL).catch((err) => logger.warn({ err }, 'revocation channel'));
    deps.redisSub.on('message', (channel, deviceId) => {
      if (channel !== REVOCATION_CHANNEL) return;
      br?.forgetOwner(deviceId);
      const n = b?.disconnectDevice(deviceId) ?? 0;
      if (n > 0) logger.info({ deviceId, connections: n }, 'token revoked, device disconnected');
    });
  }

  let closed: Promise<void> | null = null;
  return {
    metrics,
    batcher,
    ingest,
    broker,
    bridge,
    flushLastSeen: async () => lastSeen?.flush(),
    close() {
      closed ??= (async () => {
        if (broker) await broker.stopAccepting();
        if (bridge) {
          // leaves the shared subscription and takes what the broker had queued for this replica ...
          await bridge.leave();
          // ... then stops taking messages, and waits for the acknowledgements it promised
          const b = bridge.close();
          await batcher.close();
          await b;
        } else {
          await batcher.close();
        }
        if (broker) {
          // PUBACKs were handed to the sockets when the last batch was acknowledged; let them drain
          await new Promise((r) => setTimeout(r, 50));
          await broker.close();
        }
        if (deps.redisSub) await deps.redisSub.unsubscribe(REVOCATION_CHANNEL).catch(() => {});
        await lastSeen?.close();
      })();
      return closed;
    },
  };
}
