import type { Kafka, Producer } from 'kafkajs';
import type { DlqReason } from '../../schemas/vocabulary.js';
import type { RecordCodec } from './codec.js';
import { SinkUnavailableError } from './errors.js';
import type { FinaliseFailure } from './finalise.js';
import type { ActivityEvent, DeadLetter, DeadLetterQueue, EventPublisher } from './ports.js';

/** The DLQ reasons only the worker raises (documented as such in docs/payloads.md). */
export const WORKER_DLQ_REASONS = [
  'sink_rejected',
  'finalise_failed',
] as const satisfies readonly DlqReason[];

/**
 * The worker's producer: activity events to activities.v1 (key = userId) and dead letters to
 * telemetry.dlq.v1 (key = the original key). Idempotent producer, acks = all.
 */
export class KafkaPublisher implements EventPublisher, DeadLetterQueue {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly codec: RecordCodec,
    private readonly topics: { activities: string; dlq: string },
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async publishActivities(events: readonly ActivityEvent[]): Promise<void> {
    if (events.length === 0) return;
    const messages = await Promise.all(
      events.map(async (e) => ({
        key: e.value.userId,
        value: await this.codec.encode(e.name, e.value),
        headers: { 'fitstream-record': e.name },
      })),
    );
    try {
      await this.producer.send({ topic: this.topics.activities, acks: -1, messages });
    } catch (err) {
      throw new SinkUnavailableError('kafka activities', err);
    }
  }

  async deadLetter(items: readonly DeadLetter[], now: number): Promise<void> {
    if (items.length === 0) return;
    const messages = await Promise.all(
      items.map(async (d) => ({
        key: d.raw.key,
        value: await this.codec.encode('DlqRecord', {
          original: d.raw.value ?? Buffer.alloc(0),
          source: d.source ?? `kafka:${d.raw.topic}/${d.raw.partition}@${d.raw.offset}`,
          reasonCode: d.reason as DlqReason,
          message: d.message,
          deviceId: d.deviceId,
          at: now,
        }),
      })),
    );
    try {
      await this.producer.send({ topic: this.topics.dlq, acks: -1, messages });
    } catch (err) {
      throw new SinkUnavailableError('kafka dlq', err);
    }
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

/**
 * The DLQ record of a session whose activity could not be computed (`finalise_failed`). Its
 * records are durable (ClickHouse, the S3 archive) and committed, so `original` is not one Kafka
 * record but what identifies the session: JSON `{userId, deviceId, sessionId, sport, firstTs,
 * lastTs, samples}` (device time, ms). Retry after a fix: `replay --user <userId>` rebuilds the
 * user's sessions from the archive (any new record of the session also re-finalises it).
 */
export function finaliseDeadLetter(f: FinaliseFailure, topic: string, now: number): DeadLetter {
  const { userId, deviceId, sessionId, sport } = f.ref;
  const original = {
    userId,
    deviceId,
    sessionId,
    sport,
    firstTs: f.firstTs,
    lastTs: f.lastTs,
    samples: f.samples,
  };
  return {
    raw: {
      topic,
      partition: -1,
      offset: '-1',
      key: Buffer.from(sessionId),
      value: Buffer.from(JSON.stringify(original)),
      timestamp: now,
    },
    reason: 'finalise_failed',
    message: `${f.error} (session ${deviceId}/${sessionId}, ${f.samples} samples; retry: replay --user ${userId})`,
    deviceId,
    source: `finalise:${deviceId}/${sessionId}`,
  };
}
