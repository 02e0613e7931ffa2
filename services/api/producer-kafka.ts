import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, type LogEntry, logLevel, type Producer } from 'kafkajs';
import { avroTypes } from '../../schemas/avro.js';
import { registerSchemas, type SchemaIds } from '../../schemas/registry.js';
import type { ActivityDeleted } from '../../schemas/types.js';
import { encodeConfluent } from '../../schemas/wire.js';
import type { Logger } from '../common/logger.js';
import { encodeUploadRecord, type UploadRecord } from './uploads.js';

/**
 * Sends an upload's records to telemetry.samples.v1, and the API's own activity events (ActivityDeleted) to
 * activities.v1; each resolves when the brokers acknowledged all of it.
 */
export interface TelemetryProducer {
  send(sessionId: string, records: readonly UploadRecord[]): Promise<void>;
  /** records already in wire format (encoded with schemaIds(): import-prepare.ts), sent as send() sends */
  sendEncoded(sessionId: string, values: readonly Uint8Array[]): Promise<void>;
  /** the registry's ids of the record schemas (registered on first use) */
  schemaIds(): Promise<SchemaIds>;
  /** ActivityDeleted on activities.v1, key = userId like every producer of that topic (schemas/*.avsc) */
  announceDeleted(event: ActivityDeleted): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaTelemetryOptions {
  brokers: string[];
  clientId: string;
  registryUrl: string;
  topic: string;
  /** activities.v1 (TOPIC_ACTIVITIES); absent: announceDeleted fails (a producer of uploads only) */
  activitiesTopic?: string;
  logger: Logger;
}

/**
 * Bytes per produce request: a request carries one record batch per partition, and the broker refuses
 * a batch over message.max.bytes (1 MiB by default), so a 100k-point upload goes out in several sends.
 */
const SEND_BYTES = 512 * 1024;

function kafkaLog(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (level === logLevel.ERROR) child.error(extra, message);
      else if (level === logLevel.WARN) child.warn(extra, message);
    };
}

/**
 * An idempotent producer (acks = all, one request in flight, so the records of a session stay in order
 * even across retries). Schema ids are registered once, on the first send, and asked again after a failure.
 */
export function kafkaTelemetryProducer(opts: KafkaTelemetryOptions): TelemetryProducer {
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLog(opts.logger),
    // A request waits for Kafka a few seconds at most, then answers 503: the client retries with its key.
    connectionTimeout: 3000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const registry = new SchemaRegistry({ host: opts.registryUrl });
  let ready: Promise<SchemaIds> | undefined;
  const readyOnce = () => {
    if (!ready) {
      ready = producer.connect().then(() => registerSchemas(registry));
      ready.catch(() => {
        ready = undefined;
      });
    }
    return ready;
  };
  /** values of one session, in order, in sends of at most SEND_BYTES (a record larger goes alone) */
  const sendValues = async (sessionId: string, values: Iterable<Buffer>) => {
    let messages: { key: string; value: Buffer }[] = [];
    let bytes = 0;
    const flush = async () => {
      if (messages.length === 0) return;
      await producer.send({ topic: opts.topic, acks: -1, messages });
      messages = [];
      bytes = 0;
    };
    for (const value of values) {
      if (bytes + value.length > SEND_BYTES) await flush();
      messages.push({ key: sessionId, value });
      bytes += value.length;
    }
    await flush();
  };
  return {
    async send(sessionId, records) {
      const ids = await readyOnce();
      // encoded as they are sent: a large upload never holds all of its encoded records at once
      function* encoded() {
        for (const r of records) yield encodeUploadRecord(ids, r);
      }
      await sendValues(sessionId, encoded());
    },
    async sendEncoded(sessionId, values) {
      await readyOnce();
      await sendValues(
        sessionId,
        values.map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length))),
      );
    },
    schemaIds: readyOnce,
    async announceDeleted(event) {
      if (!opts.activitiesTopic) throw new Error('this producer has no activities topic');
      const ids = await readyOnce();
      const value = encodeConfluent(ids.ActivityDeleted, avroTypes.ActivityDeleted, event);
      await producer.send({
        topic: opts.activitiesTopic,
        acks: -1,
        messages: [{ key: event.userId, value }],
      });
    },
    async close() {
      await producer.disconnect();
    },
  };
}
