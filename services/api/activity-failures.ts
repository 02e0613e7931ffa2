// Why an upload or an import stays without an activity (issue 13): the worker dead-letters a session it cannot
// finalise on telemetry.dlq.v1 (`finalise_failed`, `original` = JSON naming the session) and a record it refuses
// with that record's reason (`original` = the record as consumed). This consumer reads the DLQ, finds the session
// each record is about, and stores the reason for the activity ids that are an upload's or an import's (the only
// activities that GET /v1/activities/{id} shows before the worker stored them), so that GET answers
// `status: "failed"` with the reason code instead of `processing` forever.

import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type pg from 'pg';
import { activityIdFor } from '../../pipelines/index.js';
import { SchemaError } from '../../schemas/errors.js';
import type { DlqRecord } from '../../schemas/types.js';
import { isDlqReason } from '../../schemas/vocabulary.js';
import { ConfluentDecoder } from '../../schemas/wire.js';
import type { Logger } from '../common/logger.js';

/** What a dead letter is about: one session, the reason, when. */
export interface SessionFailure {
  userId: string;
  deviceId: string;
  sessionId: string;
  reason: DlqRecord['reasonCode'];
  message: string;
  at: number;
}

type Ids = { userId: string; deviceId: string; sessionId: string };

const isIds = (v: unknown): v is Ids => {
  const o = v as Record<string, unknown> | null;
  return (
    !!o &&
    typeof o === 'object' &&
    typeof o.userId === 'string' &&
    typeof o.deviceId === 'string' &&
    typeof o.sessionId === 'string'
  );
};

/**
 * The session a worker's dead letter is about, or null: the gateway's dead letters (`mqtt:` sources) name no
 * session that an upload could be; an `original` that does not decode names none either.
 * `decodeRecord` decodes a Confluent-framed record of the samples topic (a TelemetryBatch or SessionControl).
 */
export async function failureOf(
  d: DlqRecord,
  decodeRecord: (buf: Buffer) => Promise<unknown>,
): Promise<SessionFailure | null> {
  if (!isDlqReason(d.reasonCode)) return null;
  let ids: unknown = null;
  if (d.source.startsWith('finalise:')) {
    try {
      ids = JSON.parse(d.original.toString('utf8'));
    } catch {
      return null;
    }
  } else if (d.source.startsWith('kafka:')) {
    try {
      ids = await decodeRecord(d.original);
    } catch (err) {
      // the registry away: try the batch again; bytes that do not decode name no session
      if (err instanceof SchemaError && err.retryable) throw err;
      return null;
    }
  }
  if (!isIds(ids)) return null;
  return {
    userId: ids.userId,
    deviceId: ids.deviceId,
    sessionId: ids.sessionId,
    reason: d.reasonCode,
    message: d.message,
    at: d.at,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Stores the failures of upload and import activities (others are left out: a live session is never shown
 * as processing). The first reason of an activity is kept, so a re-delivered batch changes nothing.
 */
export async function recordFailures(pool: pg.Pool, failures: readonly SessionFailure[]): Promise<number> {
  let stored = 0;
  for (const f of failures) {
    if (!UUID.test(f.userId)) continue;
    const activityId = activityIdFor(f.userId, f.deviceId, f.sessionId);
    const r = await pool.query(
      `INSERT INTO activity_failures (activity_id, user_id, reason, message, failed_at)
       SELECT a.activity_id, a.user_id, $3, $4, to_timestamp($5::double precision / 1000)
       FROM (SELECT activity_id, user_id FROM activity_uploads WHERE activity_id = $1 AND user_id = $2
             UNION ALL
             SELECT activity_id, user_id FROM imported_activities WHERE activity_id = $1 AND user_id = $2) a
       LIMIT 1
       ON CONFLICT (activity_id) DO NOTHING`,
      [activityId, f.userId, f.reason, f.message, f.at],
    );
    stored += r.rowCount ?? 0;
  }
  return stored;
}

export interface FailureRecorderOptions {
  topic: string;
  groupId: string;
  registryUrl: string;
  logger: Logger;
}

/**
 * The DLQ consumer. A batch's offsets are committed only after its failures are stored, so a crash re-reads
 * it (the insert is idempotent). A record that names no upload session is skipped; a PostgreSQL error throws,
 * and kafkajs retries the batch.
 */
export class FailureRecorder {
  private consumer: Consumer | null = null;
  private readonly decoder: ConfluentDecoder;
  /** failures stored so far (what tests wait on) */
  stored = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly pool: pg.Pool,
    private readonly opts: FailureRecorderOptions,
  ) {
    this.decoder = new ConfluentDecoder(new SchemaRegistry({ host: opts.registryUrl }));
  }

  private async decodeDlq(m: KafkaMessage): Promise<DlqRecord | null> {
    if (!m.value) return null;
    try {
      const d = await this.decoder.decode(m.value);
      return d.name === 'DlqRecord' ? (d.value as DlqRecord) : null;
    } catch (err) {
      if (err instanceof SchemaError && err.retryable) throw err;
      this.opts.logger.warn({ err, offset: m.offset }, 'dead letter not decodable: skipped');
      return null;
    }
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.opts.groupId, maxWaitTimeInMs: 200 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.opts.topic], fromBeginning: true });
    const decodeRecord = async (buf: Buffer) => (await this.decoder.decode(buf)).value;
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
        const failures: SessionFailure[] = [];
        for (const m of batch.messages) {
          const d = await this.decodeDlq(m);
          const f = d ? await failureOf(d, decodeRecord) : null;
          if (f) failures.push(f);
        }
        this.stored += await recordFailures(this.pool, failures);
        const last = batch.messages.at(-1);
        if (last) resolveOffset(last.offset);
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}
