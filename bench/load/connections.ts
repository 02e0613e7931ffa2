// How the generator's simulated devices reach the gateway: one MQTT connection per device through the
// gateway's device authentication (DeviceClient), or one connection for D devices (an aggregator: a phone
// app's backend or an edge box) through the external broker of bridge mode.
//
// Multiplexing needs bridge mode: the embedded gateway binds a connection to ONE device (user name = device
// id, password = its token) and closes a connection that publishes under another id (docs/gateway.md, Topic
// ACL). In bridge mode device authentication and the topic ACL are the external broker's (Mosquitto / EMQX:
// an aggregator account whose ACL pattern covers its devices' topics); the gateway takes the device id from
// the topic and dead-letters ids that are unknown or revoked. The local Mosquitto admits anonymous clients,
// so the aggregator here connects without credentials; what the gateway checks (device known, owner) is the
// same as for a device of its own.
import mqtt, { type MqttClient } from 'mqtt';
import { encodeAvro } from '../../schemas/avro.js';
import type { Sample, SessionControlKind, Sport } from '../../schemas/types.js';
import { DeviceClient } from '../../services/gateway/device-client.js';
import { type PayloadFormat, sessionTopic, telemetryTopic } from '../../services/gateway/topics.js';

/** What a simulated device sends through; resolves on the broker's PUBACK. */
export interface DeviceLink {
  control(sessionId: string, kind: SessionControlKind, sport: Sport, ts: number): Promise<void>;
  sendSamples(sessionId: string, sport: Sport, samples: Sample[]): Promise<void>;
  /** resolves when everything sent so far is acknowledged */
  flush(): Promise<void>;
  /** the device goes offline: its socket closes (per-device mode) */
  goOffline(): Promise<void>;
  /** back online: reconnects (per-device mode), authenticating again */
  goOnline(): Promise<void>;
  close(): Promise<void>;
}

export function encodeTelemetry(
  format: PayloadFormat,
  sessionId: string,
  sport: Sport,
  samples: Sample[],
): Buffer {
  return format === 'avro'
    ? encodeAvro('DeviceTelemetry', { sessionId, sport, samples, sets: [] })
    : Buffer.from(JSON.stringify({ sessionId, sport, samples }));
}

export function encodeControl(
  format: PayloadFormat,
  sessionId: string,
  kind: SessionControlKind,
  sport: Sport,
  ts: number,
): Buffer {
  const value = { sessionId, kind, sport, ts };
  return format === 'avro' ? encodeAvro('DeviceSession', value) : Buffer.from(JSON.stringify(value), 'utf8');
}

export interface DeviceLinkOptions {
  url: string;
  deviceId: string;
  token: string;
  format: PayloadFormat;
  /** 5 for the external broker (bridge mode) */
  protocolVersion: 4 | 5;
  anonymous: boolean;
}

/** One socket per device: the gateway's device client (buffering, resend after reconnect). */
export class SocketPerDevice implements DeviceLink {
  private client: DeviceClient;
  private online: Promise<void>;
  sockets = 0;

  constructor(private readonly o: DeviceLinkOptions) {
    this.client = this.newClient();
    this.online = this.connect();
  }

  private newClient(): DeviceClient {
    const c = new DeviceClient({
      url: this.o.url,
      deviceId: this.o.deviceId,
      token: this.o.token,
      format: this.o.format,
      protocolVersion: this.o.protocolVersion,
      anonymous: this.o.anonymous,
      maxInflight: 16,
      reconnectMs: 250,
    });
    c.on('error', () => {});
    return c;
  }

  private async connect(): Promise<void> {
    await this.client.connect();
    this.sockets = 1;
  }

  /** resolves once the first CONNACK arrived; rejects when the gateway refused the device */
  ready(): Promise<void> {
    return this.online;
  }

  control(sessionId: string, kind: SessionControlKind, sport: Sport, ts: number): Promise<void> {
    return this.online.then(() => this.client.control(sessionId, kind, sport, ts));
  }

  sendSamples(sessionId: string, sport: Sport, samples: Sample[]): Promise<void> {
    return this.online.then(() => this.client.sendSamples(sessionId, sport, samples));
  }

  /** until nothing is pending, also what acknowledgement callbacks sent (a duplicate re-send) */
  async flush(): Promise<void> {
    await this.online;
    do {
      await this.client.flush();
      await new Promise((r) => setImmediate(r));
    } while (this.client.pending > 0);
  }

  async goOffline(): Promise<void> {
    await this.flush();
    await this.client.close();
    this.sockets = 0;
  }

  async goOnline(): Promise<void> {
    this.client = this.newClient();
    this.online = this.connect();
    await this.online;
  }

  async close(): Promise<void> {
    await this.client.close();
    this.sockets = 0;
  }
}

/**
 * One MQTT 5 connection publishing for many devices (bridge mode only, see the header). mqtt.js keeps the
 * QoS 1 messages in flight and resends them after a reconnect; each publish resolves on its PUBACK.
 */
export class Aggregator {
  readonly client: MqttClient;
  private readonly ready: Promise<void>;

  constructor(url: string, clientId: string) {
    this.client = mqtt.connect(url, {
      protocolVersion: 5,
      clientId,
      clean: true,
      reconnectPeriod: 500,
      connectTimeout: 30_000,
      keepalive: 60,
    });
    this.client.on('error', () => {});
    // a CONNACK timeout or a refused connection is retried by mqtt.js (reconnectPeriod): wait for the first
    // connect whatever happens before it, as a deployed aggregator would
    this.ready = new Promise((resolve) => this.client.once('connect', () => resolve()));
  }

  publish(topic: string, payload: Buffer): Promise<void> {
    return this.ready.then(
      () =>
        new Promise<void>((resolve, reject) => {
          this.client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
        }),
    );
  }

  link(deviceId: string, format: PayloadFormat): DeviceLink {
    const pending = new Set<Promise<void>>();
    const track = (p: Promise<void>): Promise<void> => {
      pending.add(p);
      const done = () => pending.delete(p);
      p.then(done, done);
      return p;
    };
    return {
      control: (sessionId, kind, sport, ts) =>
        track(
          this.publish(sessionTopic(deviceId, format), encodeControl(format, sessionId, kind, sport, ts)),
        ),
      sendSamples: (sessionId, sport, samples) =>
        track(
          this.publish(telemetryTopic(deviceId, format), encodeTelemetry(format, sessionId, sport, samples)),
        ),
      flush: async () => {
        while (pending.size > 0) {
          await Promise.allSettled([...pending]);
          await new Promise((r) => setImmediate(r));
        }
      },
      // the phone was offline: its samples wait in the app, the aggregator's socket stays up
      goOffline: async () => {},
      goOnline: async () => {},
      close: async () => {},
    };
  }

  close(): Promise<void> {
    return this.client.endAsync(false).then(() => {});
  }
}
