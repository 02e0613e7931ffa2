import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { VerifyResult } from '../common/device-tokens.js';
import type { Logger } from '../common/logger.js';
import {
  AbuseLimitError,
  AuthUnavailableError,
  BadCredentialsError,
  ShuttingDownError,
  TopicForbiddenError,
} from './errors.js';
import type { DeviceIdentity, Ingest } from './ingest.js';
import type { GatewayMetrics } from './metrics.js';
import { commandTopic, isValidDeviceId, topicDeviceId } from './topics.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port */
  port: number;
  /** 0 picks a free port; null: no WebSocket listener */
  wsPort: number | null;
  ingest: Ingest;
  /** checks a CONNECT's credentials; rejects when the token store is unreachable */
  authenticate: (deviceId: string, password: Buffer) => Promise<VerifyResult>;
  /** largest MQTT packet accepted; a bigger one closes the connection before it is buffered */
  maxPacketBytes: number;
  abuseMaxRejects: number;
  abuseWindowMs: number;
  metrics: GatewayMetrics;
  logger: Logger;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly wsPort: number | null;
  readonly aedes: Aedes;
  /** close every connection of a device (token revoked) */
  disconnectDevice(deviceId: string): number;
  /** stop accepting connections; already-admitted messages still get acknowledged */
  stopAccepting(): Promise<void>;
  /** close every connection and the broker */
  close(): Promise<void>;
}

/** Per-connection state, kept on the aedes client object (no side table to leak). */
interface DeviceState extends DeviceIdentity {
  deviceId: string;
  userId: string;
  /** a topic this connection already published on under its own id (checked once, not per message) */
  ownTopic: string | null;
  rejects: number;
  windowStart: number;
}
type DeviceClient = Client & { fitstream?: DeviceState };

type FanOut = (
  packet: { topic: string },
  client?: Client | null | ((err?: Error | null) => void),
  done?: (err?: Error | null) => void,
) => void;
const COMMANDS_SUFFIX = '/commands';

/** CONNACK return codes (MQTT 3.1.1, table 3.1). */
const CONNACK_SERVER_UNAVAILABLE = 3;
const CONNACK_BAD_CREDENTIALS = 4;
const CONNACK_NOT_AUTHORIZED = 5;

function authError(err: Error, returnCode: number): AuthenticateError {
  return Object.assign(err, { returnCode }) as AuthenticateError;
}

/**
 * A client id is the device id, or `{deviceId}/{anything}` for a device that keeps several connections.
 * Tying the two matters: aedes closes an existing connection when a new one takes its client id, so free
 * client ids would let one device knock another offline.
 */
function clientIdMatches(clientId: string, deviceId: string): boolean {
  return (
    clientId === deviceId || (clientId.startsWith(deviceId) && clientId.charCodeAt(deviceId.length) === 47)
  );
}

/**
 * mqtt-packet buffers a whole packet before aedes sees it, and MQTT allows 256 MB. This replaces the parser's
 * length step (same code path, one shared function, no per-connection closure) to fail the connection as
 * soon as the fixed header announces more than the limit.
 */
interface PacketParser {
  // not in `settings`: the parser replaces its settings with the CONNECT packet
  fitstreamMaxPacketBytes?: number;
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(err: Error): boolean;
}
let originalParseLength: ((this: PacketParser) => boolean) | null = null;
function limitedParseLength(this: PacketParser): boolean {
  const ok = originalParseLength!.call(this);
  const max = this.fitstreamMaxPacketBytes;
  if (ok && max !== undefined && this.packet.length > max) {
    this._emitError(new Error(`packet of ${this.packet.length} bytes exceeds ${max}`));
    return false;
  }
  return ok;
}
function limitPacketSize(client: Client, maxBytes: number): void {
  const parser = (client as unknown as { _parser?: PacketParser })._parser;
  if (!parser || typeof parser._parseLength !== 'function') return;
  if (originalParseLength === null) originalParseLength = Object.getPrototypeOf(parser)._parseLength;
  parser.fitstreamMaxPacketBytes = maxBytes;
  parser._parseLength = limitedParseLength;
}

/**
 * The embedded MQTT 3.1.1 broker (aedes) on TCP and WebSocket.
 *
 * Acknowledgement: aedes sends a QoS 1 PUBACK only after `authorizePublish` calls back, and it does not read
 * the next chunk of a socket while a packet of the current chunk is unfinished. So `authorizePublish` admits,
 * validates and produces the message and calls back when Kafka acknowledged it: the PUBACK means durable,
 * a client's pipelined publishes still share one Kafka round trip, and a slow Kafka stops socket reads
 * (TCP back-pressure) instead of growing memory. QoS 0 calls back once the message is admitted.
 *
 * A rejected message is in the DLQ and is acknowledged like any other (the device must not resend it); the
 * connection stays up unless it keeps sending rejects. Publishing under another device's id closes the
 * connection (MQTT 3.1.1 has no negative PUBACK).
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { ingest, metrics: m, logger } = opts;
  let accepting = true;

  /**
   * Produces an admitted message and calls aedes back: for QoS 1 when Kafka acknowledged it (that callback
   * sends the PUBACK), for QoS 0 at once. One function for every message, so the hot path allocates one
   * closure (the acknowledgement) and no promise.
   */
  function produce(
    state: DeviceState,
    packet: { topic: string; qos: number },
    payload: Buffer,
    callback: (err?: Error | null) => void,
  ): void {
    if (packet.qos === 0) {
      ingest.ingestWithCallback(state, packet.topic, payload, (err) => {
        if (err) logger.warn({ err }, 'QoS 0 message not produced');
      });
      callback(null);
      return;
    }
    ingest.ingestWithCallback(state, packet.topic, payload, (err, r) => {
      // ShuttingDownError: never acknowledged; the connection is closed with the broker and the device
      // resends to the next gateway.
      if (err) return logger.debug({ err }, 'message not acknowledged');
      if (r!.accepted) return callback(null);
      const now = Date.now();
      if (now - state.windowStart > opts.abuseWindowMs) {
        state.windowStart = now;
        state.rejects = 0;
      }
      if (++state.rejects > opts.abuseMaxRejects) {
        m.refused.inc({ code: 'ABUSE_LIMIT' });
        logger.warn({ deviceId: state.deviceId, rejects: state.rejects }, 'closing abusive connection');
        return callback(new AbuseLimitError(`more than ${opts.abuseMaxRejects} rejected messages`));
      }
      callback(null);
    });
  }

  const aedes = await Aedes.createBroker({
    // the telemetry topics have no subscribers, and nothing must be retained for them
    heartbeatInterval: 60_000,
    connectTimeout: 10_000,
    preConnect(_client, _packet, done) {
      if (!accepting) {
        m.connects.inc({ result: 'shutting_down' });
        return done(new ShuttingDownError('gateway is shutting down'), false);
      }
      done(null, true);
    },
    authenticate(client, username, password, done) {
      const deviceId = username ?? '';
      if (!isValidDeviceId(deviceId) || password === undefined) {
        m.connects.inc({ result: 'bad_credentials' });
        return done(
          authError(new BadCredentialsError('missing or malformed credentials'), CONNACK_BAD_CREDENTIALS),
          null,
        );
      }
      if (!clientIdMatches(client.id, deviceId)) {
        m.connects.inc({ result: 'bad_client_id' });
        return done(
          authError(
            new BadCredentialsError(`client id must be ${deviceId} or ${deviceId}/...`),
            CONNACK_NOT_AUTHORIZED,
          ),
          null,
        );
      }
      opts.authenticate(deviceId, password).then(
        (r) => {
          if (!r.ok) {
            m.connects.inc({ result: 'bad_credentials' });
            logger.info({ deviceId, reason: r.reason }, 'connect refused');
            return done(authError(new BadCredentialsError(r.reason), CONNACK_BAD_CREDENTIALS), null);
          }
          (client as DeviceClient).fitstream = {
            deviceId,
            userId: r.userId,
            ownTopic: null,
            rejects: 0,
            windowStart: Date.now(),
          };
          m.connects.inc({ result: 'ok' });
          done(null, true);
        },
        (err: unknown) => {
          m.connects.inc({ result: 'unavailable' });
          logger.warn({ err, deviceId }, 'token check failed');
          done(
            authError(new AuthUnavailableError('token store unavailable', err), CONNACK_SERVER_UNAVAILABLE),
            null,
          );
        },
      );
    },
    authorizePublish(client, packet, callback) {
      const state = (client as DeviceClient | null)?.fitstream;
      if (!state) return callback(new TopicForbiddenError('broker-originated publishes are not accepted'));
      if (packet.topic !== state.ownTopic && topicDeviceId(packet.topic) !== state.deviceId) {
        m.refused.inc({ code: 'TOPIC_FORBIDDEN' });
        logger.warn(
          { deviceId: state.deviceId, topic: packet.topic },
          'publish under a foreign topic refused',
        );
        return callback(
          new TopicForbiddenError(`device ${state.deviceId} may not publish to ${packet.topic}`),
        );
      }
      state.ownTopic = packet.topic;
      packet.retain = false;
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const gate = ingest.admit();
      if (gate === null) produce(state, packet, payload, callback);
      else
        gate.then(
          () => produce(state, packet, payload, callback),
          (err) => logger.debug({ err }, 'message not admitted'),
        );
    },
    authorizeSubscribe(client, sub, callback) {
      const state = (client as DeviceClient).fitstream;
      if (state && sub.topic === commandTopic(state.deviceId)) return callback(null, sub);
      m.refused.inc({ code: 'SUBSCRIBE_FORBIDDEN' });
      // a null subscription is a SUBACK failure (0x80) for that filter; the connection stays up
      callback(null, null);
    },
  });

  // A device's telemetry and session messages end in Kafka, not at MQTT subscribers: the subscribe ACL
  // (authorizeSubscribe) admits only `v1/devices/{id}/commands`, so the broker's fan-out of such a publish
  // (retained store, offline-queue lookup, topic-trie match, 'publish' event) finds nobody. It cost ~2-3 % of
  // the gateway's CPU per message in the profile; device publishes on any other topic still take it.
  const fanOut = aedes.publish.bind(aedes) as FanOut;
  (aedes as unknown as { publish: FanOut }).publish = (packet, client, done) => {
    if (
      typeof client === 'object' &&
      client !== null &&
      (client as DeviceClient).fitstream !== undefined &&
      !packet.topic.endsWith(COMMANDS_SUFFIX)
    ) {
      done?.(null);
      return;
    }
    fanOut(packet, client, done);
  };

  aedes.on('client', () => m.connections.inc());
  aedes.on('clientDisconnect', () => m.connections.dec());
  aedes.on('clientError', (client, err) =>
    logger.debug({ clientId: client.id, err: err.message }, 'client error (connection closed)'),
  );
  aedes.on('connectionError', (client, err) =>
    logger.debug({ clientId: client.id, err: err.message }, 'connection error'),
  );

  const handle = (stream: Parameters<Aedes['handle']>[0], req?: Parameters<Aedes['handle']>[1]) => {
    const client = aedes.handle(stream, req);
    limitPacketSize(client, opts.maxPacketBytes);
  };

  const tcp: NetServer = createNetServer((socket) => {
    socket.setNoDelay(true);
    handle(socket);
  });
  await listen(tcp, opts.port, opts.host);
  const port = (tcp.address() as AddressInfo).port;

  let http: HttpServer | null = null;
  let wss: WebSocketServer | null = null;
  let wsPort: number | null = null;
  if (opts.wsPort !== null) {
    http = createHttpServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
    });
    wss = new WebSocketServer({ server: http, maxPayload: opts.maxPacketBytes + 16 });
    wss.on('connection', (ws, req) => handle(createWebSocketStream(ws), req));
    await listen(http, opts.wsPort, opts.host);
    wsPort = (http.address() as AddressInfo).port;
  }

  // net/http `close()` only calls back once every connection has ended, which happens in `close()` below;
  // stopping the listeners must not wait for it.
  let listenersClosed: Promise<void> | null = null;
  const stopAccepting = async () => {
    accepting = false;
    listenersClosed ??= Promise.all([
      new Promise<void>((r) => tcp.close(() => r())),
      http ? new Promise<void>((r) => http.close(() => r())) : Promise.resolve(),
    ]).then(() => {});
  };

  return {
    port,
    wsPort,
    aedes,
    disconnectDevice(deviceId) {
      let n = 0;
      for (const c of Object.values(
        (aedes as unknown as { clients: Record<string, DeviceClient> }).clients,
      )) {
        if (c.fitstream?.deviceId === deviceId) {
          c.close();
          n++;
        }
      }
      return n;
    },
    stopAccepting,
    async close() {
      await stopAccepting();
      await new Promise<void>((r) => aedes.close(() => r()));
      for (const c of wss?.clients ?? []) c.terminate();
      wss?.close();
      http?.closeAllConnections();
      await listenersClosed;
    },
  };
}

function listen(server: NetServer | HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
