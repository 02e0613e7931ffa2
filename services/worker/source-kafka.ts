import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../common/logger.js';
import type { RawRecord } from './records.js';

/**
 * Consumer-group source with commit-after-flush. Records of every eachBatch call are buffered;
 * when `batchRows` weight has accumulated, or `flushIntervalMs` has passed since the first
 * buffered record, the handler's `flush` is awaited and only then are the offsets committed.
 * Offsets are resolved right away (so fetching moves on) but committed only after the flush, so a
 * crash at any point re-delivers everything after the last durable flush. While a flush waits (a
 * sink is down) eachBatch waits too: backpressure, not loss. Heartbeats continue meanwhile.
 */
export interface SourceHandler {
  /** Decodes/classifies one record into the pending batch; returns its weight (samples). */
  ingest(raw: RawRecord): Promise<number>;
  /** Makes every record ingested since the last flush durable; resolves when all sinks acked. */
  flush(heartbeat: () => Promise<void>): Promise<void>;
  /** Partitions of the topic this member owns after a rebalance. */
  assigned(partitions: number[]): void;
}

export interface KafkaSourceOptions {
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  flushIntervalMs: number;
  batchRows: number;
  sessionTimeoutMs?: number;
}

export class KafkaSource {
  private readonly consumer: Consumer;
  private weight = 0;
  private firstAt = 0;
  /** next offset to commit per partition, for records already handed to `ingest` */
  private pending = new Map<number, string>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: () => Promise<void> = async () => {};
  private lag = new Map<number, number>();

  constructor(
    kafka: Kafka,
    private readonly opts: KafkaSourceOptions,
    private readonly handler: SourceHandler,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      // a dead worker's partitions move after this long; a live one heartbeats during flushes too
      sessionTimeout: opts.sessionTimeoutMs ?? 15_000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      maxWaitTimeInMs: 200,
      retry: { retries: 50, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const parts = e.payload.memberAssignment[opts.topic] ?? [];
      this.logger.info({ partitions: parts }, 'partitions assigned');
      for (const p of [...this.lag.keys()]) if (!parts.includes(p)) this.lag.delete(p);
      this.handler.assigned([...parts]);
    });
  }

  /** Sum of the latest offset lag seen per owned partition (records). */
  get offsetLag(): number {
    let n = 0;
    for (const v of this.lag.values()) n += v;
    return n;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.opts.topic], fromBeginning: this.opts.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (p) => this.eachBatch(p),
    });
    this.timer = setInterval(
      () => {
        if (this.weight > 0 || this.pending.size > 0) {
          if (Date.now() - this.firstAt >= this.opts.flushIntervalMs) void this.flush().catch(() => {});
        }
      },
      Math.max(50, Math.floor(this.opts.flushIntervalMs / 4)),
    );
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    this.heartbeat = p.heartbeat;
    if (!p.isRunning() || p.isStale() || batch.messages.length === 0) return;
    await this.locked(async () => {
      if (this.pending.size === 0 && this.weight === 0) this.firstAt = Date.now();
      for (const m of batch.messages) {
        const raw: RawRecord = {
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          timestamp: Number(m.timestamp),
        };
        this.weight += Math.max(1, await this.handler.ingest(raw));
      }
      const last = batch.messages[batch.messages.length - 1]!.offset;
      this.pending.set(batch.partition, (BigInt(last) + 1n).toString());
      p.resolveOffset(last);
    });
    this.lag.set(batch.partition, Number(batch.offsetLag()));
    if (this.weight >= this.opts.batchRows) await this.flush();
    await p.heartbeat().catch(() => {});
  }

  /** Runs `f` between flushes (never concurrently with ingest or a flush). */
  exclusive<T>(f: () => Promise<T>): Promise<T> {
    return this.locked(f);
  }

  private locked<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f);
    this.chain = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** Flush the handler, then commit the offsets of everything it made durable. */
  flush(): Promise<void> {
    return this.locked(async () => {
      if (this.pending.size === 0 && this.weight === 0) return;
      const offsets = this.pending;
      this.pending = new Map();
      this.weight = 0;
      // keep the group membership alive while sinks are slow or down (the flush may take long)
      const beat = setInterval(() => void this.heartbeat().catch(() => {}), 3000);
      try {
        await this.handler.flush(() => this.heartbeat().catch(() => {}));
      } finally {
        clearInterval(beat);
      }
      try {
        await this.consumer.commitOffsets(
          [...offsets].map(([partition, offset]) => ({ topic: this.opts.topic, partition, offset })),
        );
      } catch (err) {
        // Lost the partition in a rebalance: its new owner re-reads from the last commit and the
        // sinks are idempotent, so nothing is lost or doubled.
        this.logger.warn({ err }, 'offset commit failed (rebalance?); records will be re-delivered');
      }
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.consumer.stop();
    await this.flush().catch((err) => this.logger.error({ err }, 'final flush failed'));
    await this.consumer.disconnect();
  }
}
