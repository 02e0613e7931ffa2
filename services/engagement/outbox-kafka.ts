// Publishes engagement_outbox to goals.v1 exactly once per row, across crashes and replicas.
//
// - One publisher at a time: the replica holding a PostgreSQL session advisory lock (the lease)
//   publishes; the others wait for it. A replica that dies loses its connection and so its lease.
// - Kafka transactions: every batch of rows is sent in one transaction that also commits the cursor
//   (the next outbox id) as the offset of a consumer group no one consumes, so the records and the
//   cursor become visible together or not at all. A crash before the commit aborts the records
//   (consumers read committed); a crash after it leaves the cursor past them, and the next lease
//   holder starts from there: nothing is sent twice, whatever PostgreSQL's published_at says.
// - Fencing: every replica uses the same transactional id, so the new lease holder's producer fences
//   the producer of one that lost its lease while a send was in flight (that send fails).
// - Ids commit in id order (migration: the outbox inserts take a transaction-level lock), so reading
//   `id >= cursor` never passes over a row committed later.
import type { Kafka, Producer } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import { WakeableSleep } from '../common/wakeable-sleep.js';
import type { EngagementCodec } from './codec.js';
import type { FactRecord } from './model.js';

const LEASE_KEY = 0x6f757462; // 'outb'

export interface OutboxOptions {
  topic: string;
  transactionalId: string;
  /** the group whose committed offset on partition 0 of `topic` is the cursor */
  cursorGroup: string;
  batch: number;
  pollMs: number;
  retryMaxMs: number;
}

export interface OutboxEvents {
  /** records committed to Kafka */
  onPublished?(n: number, records: Record<string, number>): void;
  onLease?(held: boolean): void;
}

export class OutboxPublisher {
  private stopped = false;
  private readonly naps = new WakeableSleep();
  private loop: Promise<void> | null = null;
  private producer: Producer | null = null;
  private lease: pg.PoolClient | null = null;
  /** true while this replica holds the lease */
  leader = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly kafka: Kafka,
    private readonly codec: EngagementCodec,
    private readonly opts: OutboxOptions,
    private readonly logger: Logger,
    private readonly events: OutboxEvents = {},
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** New rows were committed: look now rather than at the next poll. */
  wake(): void {
    this.naps.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return this.naps.sleep(ms);
  }

  private async run(): Promise<void> {
    let backoff = 200;
    while (!this.stopped) {
      try {
        if (!(await this.acquire())) {
          await this.sleep(this.opts.pollMs * 2);
          continue;
        }
        backoff = 200;
        await this.publishWhileLeader();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'outbox publisher: retrying');
        await this.release(true);
        await this.sleep(backoff);
        backoff = Math.min(this.opts.retryMaxMs, backoff * 2);
      }
    }
    await this.release(false);
  }

  private async acquire(): Promise<boolean> {
    const c = await this.pool.connect();
    c.on('error', () => {}); // a dropped lease connection surfaces on the next query
    const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEASE_KEY]);
    if (!r.rows[0]?.ok) {
      c.release();
      return false;
    }
    this.lease = c;
    this.producer = this.kafka.producer({
      transactionalId: this.opts.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await this.producer.connect(); // InitProducerId: fences any earlier producer of this id
    this.leader = true;
    this.events.onLease?.(true);
    this.logger.info('outbox publisher: lease acquired');
    return true;
  }

  private async release(broken: boolean): Promise<void> {
    if (this.leader) this.events.onLease?.(false);
    this.leader = false;
    const p = this.producer;
    this.producer = null;
    await p?.disconnect().catch(() => {});
    const c = this.lease;
    this.lease = null;
    if (c) {
      if (!broken) await c.query('SELECT pg_advisory_unlock($1)', [LEASE_KEY]).catch(() => {});
      c.release(broken || undefined);
    }
  }

  private async cursor(): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const r = await admin.fetchOffsets({ groupId: this.opts.cursorGroup, topics: [this.opts.topic] });
      const p0 = r[0]?.partitions.find((p) => p.partition === 0);
      const n = Number(p0?.offset ?? -1);
      return Math.max(n, 0);
    } finally {
      await admin.disconnect();
    }
  }

  private async publishWhileLeader(): Promise<void> {
    const lease = this.lease!;
    const producer = this.producer!;
    let cursor = await this.cursor();
    await lease.query(
      'UPDATE engagement_outbox SET published_at = now() WHERE id < $1 AND published_at IS NULL',
      [cursor],
    );
    while (!this.stopped) {
      const rows = await lease.query<{
        id: string;
        record: FactRecord;
        message_key: string;
        payload: unknown;
      }>(
        'SELECT id, record, message_key, payload FROM engagement_outbox WHERE id >= $1 ORDER BY id LIMIT $2',
        [cursor, this.opts.batch],
      );
      if (rows.rows.length === 0) {
        await this.sleep(this.opts.pollMs);
        continue;
      }
      const messages = await Promise.all(
        rows.rows.map(async (r) => ({
          key: r.message_key,
          value: await this.codec.encodeFact(r.record, r.payload),
          headers: { 'fitstream-record': r.record, 'fitstream-outbox-id': r.id },
        })),
      );
      const last = Number(rows.rows[rows.rows.length - 1]!.id);
      const txn = await producer.transaction();
      try {
        await txn.send({ topic: this.opts.topic, acks: -1, messages });
        await txn.sendOffsets({
          consumerGroupId: this.opts.cursorGroup,
          topics: [{ topic: this.opts.topic, partitions: [{ partition: 0, offset: String(last + 1) }] }],
        });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => {});
        throw err;
      }
      cursor = last + 1;
      const counts: Record<string, number> = {};
      for (const r of rows.rows) counts[r.record] = (counts[r.record] ?? 0) + 1;
      this.events.onPublished?.(rows.rows.length, counts);
      // bookkeeping for the depth metric; the cursor in Kafka is what decides
      await lease.query(
        'UPDATE engagement_outbox SET published_at = now() WHERE id <= $1 AND published_at IS NULL',
        [last],
      );
    }
  }
}
