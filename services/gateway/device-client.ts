import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { encodeAvro } from '../../schemas/avro.js';
import type { Sample, SessionControlKind, Sport, StrengthSet } from '../../schemas/types.js';
import { type PayloadFormat, sessionTopic, telemetryTopic } from './topics.js';

/**
 * A device-side client for the Fitstream gateway (docs/device-client.md): connects with the device token,
 * encodes batches as JSON or Avro, and keeps every message in a bounded buffer until the gateway
 * acknowledged it (QoS 1 PUBACK = the message is in Kafka). While disconnected it buffers; after a
 * reconnect it resends, in order, everything not yet acknowledged. A resend carries the same
 * (session id, seq) identities, so the pipeline collapses duplicates and a resend is harmless.
 *
 * Each connection attempt uses a fresh mqtt.js client with its own reconnect and in-memory store turned
 * off: this module owns the buffer, so memory is bounded and nothing is sent twice by two mechanisms.
 */
export interface DeviceClientOptions {
  /** mqtt://host:1883, ws://host:8083 (embedded gateway) or the external broker's URL (bridge mode) */
  url: string;
  deviceId: string;
  token: string;
  /** payload encoding of telemetry and session messages; default json */
  format?: PayloadFormat;
  /** appended as `{deviceId}/{suffix}` to the client id when a device keeps several connections */
  clientSuffix?: string;
  /** 4 = MQTT 3.1.1 (embedded gateway), 5 = MQTT 5 (external broker); default 4 */
  protocolVersion?: 4 | 5;
  /** unacknowledged messages kept; the oldest is dropped beyond this (default 3600 = 1 h at 1 msg/s) */
  maxBufferedMessages?: number;
  /** bytes of unacknowledged payloads kept (default 8 MiB) */
  maxBufferedBytes?: number;
  /** QoS 1 messages on the wire at once (default 32) */
  maxInflight?: number;
  /** first reconnect delay, doubled up to 30 s (default 500 ms) */
  reconnectMs?: number;
  keepaliveS?: number;
  /**
   * connect without user name and password: only for an external broker that admits anonymous devices
   * (the local Mosquitto of infra/local); the embedded gateway refuses this
   */
  anonymous?: boolean;
  /** extra mqtt.js options (tls, ...) */
  mqtt?: Partial<IClientOptions>;
}

export class BufferOverflowError extends Error {
  readonly code = 'DEVICE_BUFFER_OVERFLOW' as const;
}
export class ClientClosedError extends Error {
  readonly code = 'DEVICE_CLIENT_CLOSED' as const;
}

interface Entry {
  topic: string;
  payload: Buffer;
  resolve: () => void;
  reject: (e: Error) => void;
  /** connection generation it was last sent on; 0 = not on the wire */
  sentOn: number;
  attempts: number;
  dropped?: boolean;
}

export interface DeviceClientStats {
  /** messages handed to send*() */
  queued: number;
  /** messages acknowledged by the gateway */
  acked: number;
  /** publishes beyond the first one of a message (after reconnects) */
  resent: number;
  /** messages dropped from a full buffer */
  dropped: number;
  connects: number;
}

export class DeviceClient extends EventEmitter {
  readonly stats: DeviceClientStats = { queued: 0, acked: 0, resent: 0, dropped: 0, connects: 0 };
  private readonly buffer: Entry[] = [];
  private bufferedBytes = 0;
  private inflight = 0;
  private client: MqttClient | null = null;
  private generation = 0;
  private connected = false;
  private closed = false;
  private backoff: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly format: PayloadFormat;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly maxInflight: number;
  private firstConnect: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private idleWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(private readonly opts: DeviceClientOptions) {
    super();
    this.format = opts.format ?? 'json';
    this.maxMessages = opts.maxBufferedMessages ?? 3600;
    this.maxBytes = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.maxInflight = opts.maxInflight ?? 32;
    this.backoff = opts.reconnectMs ?? 500;
  }

  /**
   * Connect; resolves on the first successful CONNACK and rejects if the gateway refuses the credentials.
   * Network failures are retried with backoff (messages queue meanwhile), so this may stay pending.
   */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      this.dial();
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Messages not yet acknowledged. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Session start/pause/resume/end/lap. Resolves when the gateway acknowledged it. */
  control(sessionId: string, kind: SessionControlKind, sport: Sport, ts = Date.now()): Promise<void> {
    const value = { sessionId, kind, sport, ts };
    const payload =
      this.format === 'avro'
        ? encodeAvro('DeviceSession', value)
        : Buffer.from(JSON.stringify(value), 'utf8');
    return this.enqueue(sessionTopic(this.opts.deviceId, this.format), payload);
  }

  startSession(sessionId: string, sport: Sport, ts?: number): Promise<void> {
    return this.control(sessionId, 'start', sport, ts);
  }

  endSession(sessionId: string, sport: Sport, ts?: number): Promise<void> {
    return this.control(sessionId, 'end', sport, ts);
  }

  /** One batch of samples (and strength sets) of a session; resolves when acknowledged. */
  sendSamples(sessionId: string, sport: Sport, samples: Sample[], sets: StrengthSet[] = []): Promise<void> {
    const payload =
      this.format === 'avro'
        ? encodeAvro('DeviceTelemetry', { sessionId, sport, samples, sets })
        : Buffer.from(
            JSON.stringify(sets.length ? { sessionId, sport, samples, sets } : { sessionId, sport, samples }),
          );
    return this.enqueue(telemetryTopic(this.opts.deviceId, this.format), payload);
  }

  /** Resolves when every message queued so far is acknowledged. */
  flush(): Promise<void> {
    if (this.buffer.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  /** Disconnect. Unacknowledged messages are rejected with ClientClosedError (a device would persist them). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const c = this.client;
    this.client = null;
    this.connected = false;
    for (const e of this.buffer.splice(0)) e.reject(new ClientClosedError('client closed'));
    this.bufferedBytes = 0;
    for (const w of this.idleWaiters.splice(0)) w.reject(new ClientClosedError('client closed'));
    if (c) await c.endAsync(true).catch(() => {});
  }

  private enqueue(topic: string, payload: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new ClientClosedError('client closed'));
    return new Promise((resolve, reject) => {
      this.stats.queued++;
      this.buffer.push({ topic, payload, resolve, reject, sentOn: 0, attempts: 0 });
      this.bufferedBytes += payload.length;
      while (this.buffer.length > this.maxMessages || this.bufferedBytes > this.maxBytes) {
        // drop the oldest message that is not on the wire right now (that one may still be acknowledged)
        const live = this.connected ? this.generation : -1;
        const idx = Math.max(
          0,
          this.buffer.findIndex((e) => e.sentOn !== live),
        );
        const victim = this.buffer.splice(idx, 1)[0]!;
        if (victim.sentOn === live) this.inflight--;
        victim.dropped = true;
        this.bufferedBytes -= victim.payload.length;
        this.stats.dropped++;
        victim.reject(new BufferOverflowError('offline buffer full, oldest message dropped'));
        this.emit('dropped', victim.topic);
      }
      this.pump();
    });
  }

  private pump(): void {
    if (!this.connected || !this.client) return;
    const gen = this.generation;
    const client = this.client;
    for (const e of this.buffer) {
      if (this.inflight >= this.maxInflight) break;
      if (e.sentOn === gen) continue;
      e.sentOn = gen;
      if (e.attempts++ > 0) this.stats.resent++;
      this.inflight++;
      client.publish(e.topic, e.payload, { qos: 1 }, (err) => {
        // the connection this was sent on is gone (resent already), or the buffer dropped it
        if (gen !== this.generation || e.dropped) return;
        this.inflight--;
        if (err) return; // stays in the buffer; resent after the reconnect that follows
        const i = this.buffer.indexOf(e);
        if (i >= 0) {
          this.buffer.splice(i, 1);
          this.bufferedBytes -= e.payload.length;
          this.stats.acked++;
          e.resolve();
        }
        if (this.buffer.length === 0) {
          const w = this.idleWaiters;
          this.idleWaiters = [];
          for (const r of w) r.resolve();
        }
        this.pump();
      });
    }
  }

  private dial(): void {
    if (this.closed) return;
    const gen = ++this.generation;
    const o = this.opts;
    const client = mqtt.connect(o.url, {
      protocolVersion: o.protocolVersion ?? 4,
      clientId: o.clientSuffix ? `${o.deviceId}/${o.clientSuffix}` : o.deviceId,
      ...(o.anonymous ? {} : { username: o.deviceId, password: o.token }),
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: o.keepaliveS ?? 60,
      queueQoSZero: false,
      ...o.mqtt,
    });
    this.client = client;
    client.on('connect', () => {
      if (gen !== this.generation) return;
      this.connected = true;
      this.inflight = 0;
      this.stats.connects++;
      this.backoff = o.reconnectMs ?? 500;
      this.firstConnect?.resolve();
      this.firstConnect = null;
      this.emit('connect');
      this.pump();
    });
    const lost = (err?: Error) => {
      if (gen !== this.generation) return;
      const wasConnected = this.connected;
      this.connected = false;
      this.generation++; // late PUBACK callbacks of this connection are ignored from here on
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      // a refused CONNACK (bad token, revoked) is final; a network error is retried like any other
      if (this.firstConnect && err && typeof (err as { code?: unknown }).code === 'number') {
        this.firstConnect.reject(err);
        this.firstConnect = null;
        void this.close();
        return;
      }
      if (wasConnected) this.emit('disconnect');
      if (this.closed) return;
      this.reconnectTimer = setTimeout(() => this.dial(), this.backoff);
      this.backoff = Math.min(30_000, this.backoff * 2);
    };
    client.on('error', (err) => lost(err));
    client.on('close', () => lost());
  }
}
