import type { Kafka, Producer } from 'kafkajs';
import type { DlqReason } from '../../schemas/vocabulary.js';
import type { RecordCodec } from './codec.js';
import { SinkUnavailableError } from './errors.js';
import type { RawRecord } from './records.js';
import type { ActivityEvent, EventPublisher } from './sessions.js';

export interface DeadLetter {
  raw: RawRecord;
  reason: DlqReason;
  message: string;
  deviceId: string | null;
}

/**
 * The worker's producer: activity events to activities.v1 (key = userId) and dead letters to
 * telemetry.dlq.v1 (key = the original key). Idempotent producer, acks = all.
 */
export class KafkaPublisher implements EventPublisher {
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
          source: `kafka:${d.raw.topic}/${d.raw.partition}@${d.raw.offset}`,
          reasonCode: d.reason,
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
