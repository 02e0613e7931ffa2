import { avroTypes } from '../../schemas/avro.js';
import { checkContentType } from '../../schemas/content-type.js';
import { type PayloadLimits, parseDeviceSession } from '../../schemas/payload.js';
import type { SchemaIds } from '../../schemas/registry.js';
import { telemetryRecord } from '../../schemas/telemetry-record.js';
import type { DlqReason } from '../../schemas/vocabulary.js';
import { encodeConfluent } from '../../schemas/wire.js';
import type { Batcher, OutRecord } from './batcher.js';
import type { GatewayMetrics, HotCounts } from './metrics.js';
import { type DeviceTopic, parseDeviceTopic } from './topics.js';

/** Who sent a message: from the authenticated connection (embedded) or the topic + device table (bridge). */
export interface DeviceIdentity {
  deviceId: string;
  userId: string;
}

export interface IngestOptions {
  batcher: Batcher;
  schemaIds: SchemaIds;
  topicSamples: string;
  topicDlq: string;
  limits: PayloadLimits;
  metrics: GatewayMetrics;
  now?: () => number;
}

/** What became of a message. `rejected` messages are in the DLQ (acknowledged all the same). */
export type IngestResult = { accepted: true; samples: number } | { accepted: false; reason: DlqReason };

/**
 * The one path every device message takes, in both gateway modes: size check, parse + validate
 * (schemas/payload.ts), encode as a Confluent-framed Avro record, and hand it to the batcher. A message
 * that fails any check becomes a DlqRecord on the DLQ topic instead; it never stops anything.
 *
 * `ingest()` resolves once Kafka acknowledged the record (QoS 1 semantics). `admit()` must be awaited first:
 * it is where back-pressure holds a connection.
 */
export class Ingest {
  private readonly now: () => number;
  /** per-message counts as plain numbers; the counters collect them at scrape time (metrics.ts) */
  private readonly hot: HotCounts;

  constructor(private readonly opts: IngestOptions) {
    this.now = opts.now ?? Date.now;
    this.hot = opts.metrics.hot;
  }

  /** null when a message may enter now; otherwise wait for the promise (back-pressure). */
  admit(): Promise<void> | null {
    return this.opts.batcher.admission();
  }

  /** Validate, route and produce one message; resolves when Kafka acknowledged its record. */
  ingest(who: DeviceIdentity, topic: string, payload: Buffer, contentType?: string): Promise<IngestResult> {
    return new Promise((resolve, reject) =>
      this.ingestWithCallback(
        who,
        topic,
        payload,
        (err, result) => (err ? reject(err) : resolve(result!)),
        contentType,
      ),
    );
  }

  /**
   * `ingest` without promises (the embedded broker's hot path): `done` runs once, with the result when Kafka
   * acknowledged the record, or with the error that kept it from being produced (ShuttingDownError).
   */
  ingestWithCallback(
    who: DeviceIdentity,
    topic: string,
    payload: Buffer,
    done: (err: Error | null, result?: IngestResult) => void,
    contentType?: string,
  ): void {
    const t0 = performance.now();
    let out: { record: OutRecord; result: IngestResult };
    try {
      out = this.toRecord(who, topic, payload, contentType);
    } catch (err) {
      done(err as Error);
      return;
    }
    const { record, result } = out;
    this.opts.batcher.addWithCallback(record, (err) => {
      if (err) return done(err);
      this.acknowledged(t0, result);
      done(null, result);
    });
  }

  private acknowledged(t0: number, result: IngestResult): void {
    this.opts.metrics.ackLatency.observe((performance.now() - t0) / 1000);
    if (result.accepted) {
      this.hot.outSamples++;
      this.hot.samplesOut += result.samples;
    } else {
      this.hot.outDlq++;
    }
  }

  /**
   * Send a message to the DLQ without looking at it (bridge mode: the device is unknown or revoked).
   * Resolves when Kafka acknowledged the DLQ record.
   */
  async refuse(
    deviceId: string | null,
    topic: string,
    payload: Buffer,
    reason: DlqReason,
    message: string,
  ): Promise<void> {
    this.hot.inOther++;
    const { record } = this.dlq(
      deviceId === null ? null : { deviceId, userId: '' },
      topic,
      payload,
      reason,
      message,
    );
    await this.opts.batcher.add(record);
    this.hot.outDlq++;
  }

  /** Pure part of `ingest`: the Kafka record a message turns into. */
  toRecord(
    who: DeviceIdentity,
    topic: string,
    payload: Buffer,
    contentType?: string,
  ): { record: OutRecord; result: IngestResult } {
    try {
      return this.route(who, topic, payload, contentType);
    } catch (err) {
      // The validator should make this unreachable; if a payload slips past it and the Avro encoder
      // throws, the message must still end somewhere, or the device would resend it forever.
      return this.dlq(who, topic, payload, 'schema_violation', `not encodable: ${(err as Error).message}`);
    }
  }

  private route(
    who: DeviceIdentity,
    topic: string,
    payload: Buffer,
    contentType: string | undefined,
  ): { record: OutRecord; result: IngestResult } {
    const hot = this.hot;
    const parsed: DeviceTopic | null = parseDeviceTopic(topic);
    if (parsed === null) hot.inOther++;
    else if (parsed.kind === 'telemetry') hot.inTelemetry++;
    else hot.inSession++;
    hot.bytesIn += payload.length;
    if (payload.length > this.opts.limits.maxPayloadBytes) {
      return this.dlq(
        who,
        topic,
        payload,
        'payload_too_large',
        `payload of ${payload.length} bytes exceeds ${this.opts.limits.maxPayloadBytes}`,
      );
    }
    if (parsed === null || parsed.deviceId !== who.deviceId) {
      return this.dlq(who, topic, payload, 'unknown_topic', `topic ${topic} is not a device topic`);
    }
    // MQTT 5 only (bridge mode): a Content Type, when given, must agree with the topic suffix
    const mislabelled = checkContentType(parsed.format, contentType);
    if (mislabelled) return this.dlq(who, topic, payload, mislabelled.reason, mislabelled.message);
    const ctx = { deviceId: who.deviceId, userId: who.userId, nowMs: this.now(), limits: this.opts.limits };
    const ids = this.opts.schemaIds;
    if (parsed.kind === 'telemetry') {
      const r = telemetryRecord(parsed.format, payload, ctx, ids.TelemetryBatch);
      if (!r.ok) return this.dlq(who, topic, payload, r.reason, r.message);
      hot.samplesIn += r.samples;
      return {
        record: { topic: this.opts.topicSamples, key: sessionKey(who.deviceId, r.sessionId), value: r.value },
        result: { accepted: true, samples: r.samples },
      };
    }
    const r = parseDeviceSession(parsed.format, payload, ctx);
    if (!r.ok) return this.dlq(who, topic, payload, r.reason, r.message);
    return {
      record: {
        topic: this.opts.topicSamples,
        key: sessionKey(who.deviceId, r.control.sessionId),
        value: encodeConfluent(ids.SessionControl, avroTypes.SessionControl, r.control),
      },
      result: { accepted: true, samples: 0 },
    };
  }

  private dlq(
    who: DeviceIdentity | null,
    topic: string,
    payload: Buffer,
    reason: DlqReason,
    message: string,
  ): { record: OutRecord; result: IngestResult } {
    this.opts.metrics.dlq.inc({ reason });
    // Kafka refuses records above message.max.bytes (1 MB by default): an oversized payload keeps its head.
    const original =
      payload.length > this.opts.limits.maxPayloadBytes
        ? payload.subarray(0, this.opts.limits.maxPayloadBytes)
        : payload;
    const value = encodeConfluent(this.opts.schemaIds.DlqRecord, avroTypes.DlqRecord, {
      original,
      source: `mqtt:${topic}`,
      reasonCode: reason,
      message: original === payload ? message : `${message} (original truncated to ${original.length} bytes)`,
      deviceId: who?.deviceId ?? null,
      at: this.now(),
    });
    return {
      record: { topic: this.opts.topicDlq, key: who?.deviceId ?? topic, value },
      result: { accepted: false, reason },
    };
  }
}

/**
 * Kafka key of every record of a session (telemetry batches and session control alike), so a session
 * lives on one partition in order. The client session id is unique per device only, hence the device id.
 */
export function sessionKey(deviceId: string, sessionId: string): string {
  return `${deviceId}:${sessionId}`;
}
