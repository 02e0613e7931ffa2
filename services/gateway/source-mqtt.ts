import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from '../common/logger.js';
import { InOrderRelease } from './in-order.js';
import type { Ingest } from './ingest.js';
import type { GatewayMetrics } from './metrics.js';
import { bridgeFilters, topicDeviceId } from './topics.js';

export interface MqttBridgeOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  shareGroup: string;
  /** MQTT 5 Receive Maximum: QoS 1 messages the external broker may have in flight to us */
  receiveMaximum: number;
  ingest: Ingest;
  /** user id owning a device, or null when unknown/revoked */
  resolveOwner: (deviceId: string) => Promise<string | null>;
  /** how long a device's owner is reused (default 5 s); with revocations delivered by forgetOwner it can be long */
  ownerCacheMs?: number;
  metrics: GatewayMetrics;
  logger: Logger;
}

export interface MqttBridge {
  readonly connected: boolean;
  /** resolves once subscribed */
  ready: Promise<void>;
  /**
   * Leaves the shared subscription (the broker sends the group's new messages to the other replicas) and takes
   * what the broker had already queued for this session, until nothing arrived for `quietMs` (or `maxMs`
   * passed). Call before close, while the ingest path is still open.
   */
  leave(opts?: { quietMs?: number; maxMs?: number }): Promise<void>;
  /**
   * Stops taking messages, waits for pending acknowledgements, disconnects. After a complete `leave` (every
   * message of the session acknowledged on one connection) the session ends with the disconnect; otherwise it
   * is kept (1 h) for a restart under the same client id.
   */
  close(): Promise<void>;
  /** drops the cached owner of a device (its token was revoked): its next message looks the owner up again */
  forgetOwner(deviceId: string): void;
}

type SendPacket = (
  packet: Packet,
  cb?: (err?: Error) => void,
  cbStorePut?: unknown,
  noStore?: boolean,
) => void;

/**
 * Bridge mode: an MQTT 5 client of an external broker (Mosquitto, EMQX) with a shared subscription, so N
 * gateway replicas split the devices' messages. The external broker authenticates devices and enforces
 * the topic ACL; the device id is taken from the topic and its owner from the device table.
 *
 * Acknowledgement: the PUBACK to the external broker waits for Kafka. mqtt.js handles one incoming packet
 * at a time and sends the PUBACK from inside that handling, which would allow one Kafka round trip per
 * message. So `handleMessage` finishes at once and the PUBACK packet itself is deferred until the record
 * is acknowledged (mqtt.js `_sendPacket` is wrapped for PUBACKs of pending messages only). Receive Maximum
 * bounds how many unacknowledged messages the broker sends us, which is the back-pressure in this mode.
 * The session is persistent (clean start off, session expiry 1 h), so messages not acknowledged when a
 * gateway dies are redelivered when it reconnects.
 */
export function startMqttBridge(opts: MqttBridgeOptions): MqttBridge {
  const { ingest, logger, metrics: m } = opts;
  /** deferred PUBACKs by packet id, with the connection their PUBLISH arrived on */
  const pendingAcks = new Map<number, { done: Promise<unknown>; connection: number }>();
  /** counts connections: a PUBACK is only ever sent on the connection its PUBLISH came in on */
  let connection = 0;
  const outstanding = new Set<Promise<unknown>>();
  const owners = new Map<string, { userId: string | null; until: number } | Promise<string | null>>();
  const ownerCacheMs = opts.ownerCacheMs ?? 5_000;
  /** bumped by forgetOwner: a look-up that started before a revocation is not cached */
  let forgotten = 0;
  let closing = false;
  /** a QoS 1 message was left for the broker to resend: the session must outlive this connection */
  let leftUnacknowledged = false;

  const clientOptions: IClientOptions = {
    protocolVersion: 5,
    clientId: opts.clientId,
    clean: false,
    reconnectPeriod: 1_000,
    connectTimeout: 5_000,
    keepalive: 30,
    resubscribe: true,
    properties: { sessionExpiryInterval: 3600, receiveMaximum: opts.receiveMaximum },
  };
  if (opts.username) clientOptions.username = opts.username;
  if (opts.password) clientOptions.password = opts.password;
  const client: MqttClient = mqtt.connect(opts.url, clientOptions);

  const clientInternals = client as unknown as { _sendPacket: SendPacket };
  const sendPacket = clientInternals._sendPacket.bind(client);
  // PUBACKs leave in the order their PUBLISHes were handled, each once Kafka has its record (a later one
  // waits for an earlier one). Mosquitto 2.0 finds the message a PUBACK acknowledges by walking the client's
  // in-flight list from the oldest: in order, that is the first entry; in Kafka's completion order it was a
  // walk over up to Receive Maximum entries per PUBACK, 88 % of Mosquitto's CPU (perf) at 2,000 messages/s.
  const acks = new InOrderRelease<Packet>((packet) => sendPacket(packet));
  clientInternals._sendPacket = (packet, cb, cbStorePut, noStore) => {
    if (packet.cmd === 'puback' && packet.messageId !== undefined) {
      const pending = pendingAcks.get(packet.messageId);
      if (pending) {
        pendingAcks.delete(packet.messageId);
        // let mqtt.js go on with the next packet now; the PUBACK leaves when Kafka has the record
        cb?.();
        // The connection it came in on is gone: the broker resends the PUBLISH on the resumed session (same
        // packet id, DUP set) and that copy is acknowledged. Sent now, mqtt.js would queue it for the next
        // connection, where it could acknowledge whatever the broker sends under that id next, and where it
        // replays its queue recursively (a thousand queued PUBACKs overflowed the stack of a load run's
        // gateway on reconnect). The queue is emptied when a connection closes.
        if (pending.connection !== connection) return;
        const settle = acks.add(packet);
        const sent = pending.done.then(
          () => settle(true),
          (err) => {
            leftUnacknowledged = true;
            logger.debug({ err, messageId: packet.messageId }, 'not acknowledged (will be redelivered)');
            settle(false);
          },
        );
        outstanding.add(sent);
        void sent.finally(() => outstanding.delete(sent));
        return;
      }
    }
    sendPacket(packet, cb, cbStorePut, noStore);
  };

  const ownerOf = (deviceId: string): { userId: string | null } | Promise<string | null> => {
    const hit = owners.get(deviceId);
    if (hit !== undefined && !(hit instanceof Promise) && hit.until > Date.now()) return hit;
    if (hit instanceof Promise) return hit;
    const asked = forgotten;
    const p = opts.resolveOwner(deviceId).then(
      (userId) => {
        // a revocation while the look-up ran may have come after what it read: use it, do not keep it
        if (asked === forgotten) owners.set(deviceId, { userId, until: Date.now() + ownerCacheMs });
        else if (owners.get(deviceId) === p) owners.delete(deviceId);
        return userId;
      },
      (err) => {
        owners.delete(deviceId);
        throw err;
      },
    );
    owners.set(deviceId, p);
    return p;
  };

  const process = async (topic: string, payload: Buffer, contentType: string | undefined): Promise<void> => {
    const deviceId = topicDeviceId(topic);
    if (deviceId === null) {
      return ingest.refuse(null, topic, payload, 'unknown_topic', `topic ${topic} is not a device topic`);
    }
    let userId: string | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        const o = ownerOf(deviceId);
        userId = o instanceof Promise ? await o : o.userId;
        break;
      } catch (err) {
        // PostgreSQL unreachable: the message waits (unacknowledged) rather than being refused
        if (closing) throw err;
        if (attempt === 0) logger.warn({ err, deviceId }, 'device owner lookup failed, retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt)));
      }
    }
    if (userId === null) {
      return ingest.refuse(
        deviceId,
        topic,
        payload,
        'unauthorized',
        `device ${deviceId} is unknown or revoked`,
      );
    }
    await ingest.ingest({ deviceId, userId }, topic, payload, contentType);
  };

  let lastMessageAt = 0;
  client.handleMessage = (packet, callback) => {
    if (packet.cmd !== 'publish') return callback();
    lastMessageAt = Date.now();
    // while closing, a QoS 1 message is left unacknowledged (the broker redelivers it to another replica or
    // to us after a restart); calling back would PUBACK it
    if (closing) {
      if (packet.qos === 0) return callback();
      leftUnacknowledged = true;
      return;
    }
    const arrivedOn = connection;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const go = () => {
      // admitted after its connection closed: the broker resends it on the resumed session, and that copy is
      // the one taken (so no two PUBACKs are ever pending under one packet id)
      if (arrivedOn !== connection) return;
      const done = process(packet.topic, payload, packet.properties?.contentType);
      if (packet.qos > 0 && packet.messageId !== undefined) {
        pendingAcks.set(packet.messageId, { done, connection: arrivedOn });
      } else {
        done.catch((err) => logger.warn({ err }, 'QoS 0 message not produced'));
      }
      callback();
    };
    // Back-pressure: while the gate is closed, mqtt.js gets no callback, reads nothing more from the
    // broker, and TCP flow control does the rest (Receive Maximum already bounds QoS 1).
    const gate = ingest.admit();
    if (gate === null) go();
    else
      gate.then(go, (err) => {
        leftUnacknowledged = true;
        logger.debug({ err }, 'message not admitted (will be redelivered)');
      });
  };

  let connected = false;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });
  /** the connection on which leave() completed, or -1 */
  let leftOn = -1;
  let leaving = false;
  client.on('connect', (connack) => {
    connected = true;
    logger.info({ url: opts.url, sessionPresent: connack.sessionPresent }, 'bridge connected');
    if (leaving) return;
    // (re)subscribe every time: the session may be new
    client.subscribe(bridgeFilters(opts.shareGroup), { qos: 1 }, (err) => {
      if (err) logger.error({ err }, 'bridge subscribe failed');
      else resolveReady();
    });
  });
  client.on('close', () => {
    if (connected) logger.warn('bridge connection closed, reconnecting');
    connected = false;
    connection++;
    acks.clear();
  });
  client.on('error', (err) => logger.warn({ err: err.message }, 'bridge error'));
  m.connections.set(0);

  return {
    get connected() {
      return connected;
    },
    ready,
    forgetOwner(deviceId) {
      forgotten++;
      owners.delete(deviceId);
    },
    async leave({ quietMs = 500, maxMs = 10_000 } = {}) {
      if (leaving) return;
      leaving = true;
      if (!connected) return;
      const on = connection;
      try {
        // Mosquitto keeps assigning a shared subscription's messages to a member that is offline with a
        // persistent session (round robin), where they wait for it; unsubscribed, the group's new messages go
        // to the other replicas, and what was already queued for this session still arrives on this connection
        await client.unsubscribeAsync(bridgeFilters(opts.shareGroup));
      } catch (err) {
        logger.warn({ err }, 'bridge unsubscribe failed; the session is kept');
        return;
      }
      const t0 = Date.now();
      lastMessageAt = Math.max(lastMessageAt, t0);
      while (connection === on && Date.now() - lastMessageAt < quietMs && Date.now() - t0 < maxMs) {
        await new Promise((r) => setTimeout(r, 50));
      }
      if (connection === on && Date.now() - lastMessageAt >= quietMs) leftOn = on;
      else logger.warn({ waitedMs: Date.now() - t0 }, 'bridge session still receiving; it is kept');
    },
    async close() {
      closing = true;
      // the acknowledgements already promised go out before we leave
      await Promise.allSettled([...[...pendingAcks.values()].map((p) => p.done), ...outstanding]);
      await new Promise<void>((r) => setTimeout(r, 20));
      // every message of the session was taken and acknowledged on this one connection: end the session,
      // so the broker keeps nothing for a client id that may never come back
      const done = leftOn === connection && connected && !leftUnacknowledged;
      const ended = done
        ? client.endAsync(false, { properties: { sessionExpiryInterval: 0 } })
        : client.endAsync();
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 2_000).unref());
      if ((await Promise.race([ended, timer])) === 'timeout') await client.endAsync(true);
    },
  };
}
