import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../common/logger.js';
import type { Source, SourceHandler } from './ports.js';
import type { RawRecord } from './records.js';

export interface KafkaSourceOptions {
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  flushIntervalMs: number;
  batchRows: number;
  sessionTimeoutMs?: number;
}

/**
 * Consumer-group source with commit-after-flush. Records of every eachBatch call are buffered;
 * when `batchRows` weight has accumulated, or `flushIntervalMs` has passed since the first
 * buffered record, they are taken as a job and made durable in two stages — `write` (the sinks),
 * then `complete` (what needs the job durable: finalisation) — and only then are its offsets
 * committed. Stages run in job order, one job per stage at a time, so job N completes while job
 * N+1 is written and job N+2 is read: at most three jobs are held. Offsets are resolved right away
 * (so fetching moves on) but committed only after both stages, in order, so a crash at any point
 * re-delivers everything after the last durable job. While a stage waits (a sink is down)
 * eachBatch waits too: backpressure, not loss. Heartbeats continue meanwhile.
 */
export class KafkaSource<J = unknown> implements Source {
  private readonly consumer: Consumer;
  private weight = 0;
  private firstAt = 0;
  /** next offset to commit per partition, for records already handed to `ingest` */
  private pending = new Map<number, string>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: () => Promise<void> = async () => {};
  private lag = new Map<number, number>();
  /** the last job taken, until committed (it waits for every job before it) */
  private inflight: Promise<void> = Promise.resolve();
  /** the job before the last one, until committed */
  private previous: Promise<void> = Promise.resolve();
  /** the last job's write stage (the next job's write starts after it) */
  private written: Promise<void> = Promise.resolve();
  /** a write failed (only while stopping): nothing after it may be committed */
  private failed = false;
  /** jobs taken and not yet committed */
  private writing = 0;
  /** performance.now() when the first record arrived (0: none yet): benches time from it */
  firstRecordAt = 0;

  constructor(
    kafka: Kafka,
    private readonly opts: KafkaSourceOptions,
    private readonly handler: SourceHandler<J>,
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
        // the timer never queues behind a running write, so at most one job waits (bounded memory)
        if (this.writing === 0 && (this.weight > 0 || this.pending.size > 0)) {
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
    if (this.firstRecordAt === 0) this.firstRecordAt = performance.now();
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
    if (this.weight >= this.opts.batchRows) {
      // at most one job per stage: wait until the last job is written and the one before it is
      // committed, then start the next without waiting for it, so fetching and decoding overlap
      // with the sinks and the sinks with finalisation
      await Promise.all([this.written, this.previous]);
      void this.flush();
    }
    await p.heartbeat().catch(() => {});
  }

  /** Runs `f` between flushes (never concurrently with ingest or a flush). */
  exclusive<T>(f: () => Promise<T>): Promise<T> {
    return this.locked(async () => {
      await this.inflight;
      return f();
    });
  }

  private locked<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f);
    this.chain = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /**
   * Takes the buffered records as a job: writes it after the previous job's write, completes it
   * after its own write and the previous job's completion, then commits its offsets. Resolves when
   * this job is committed (or skipped after a failed stage).
   */
  flush(): Promise<void> {
    return this.locked(async () => {
      if (this.pending.size === 0 && this.weight === 0) return this.inflight;
      const offsets = this.pending;
      this.pending = new Map();
      this.weight = 0;
      const job = this.handler.take();
      this.writing++;
      const hb = () => this.heartbeat().catch(() => {});
      const write = this.written.then(() =>
        this.beating(() => this.stage(() => this.handler.write(job, hb))),
      );
      this.written = write.catch(() => {});
      const before = this.inflight;
      const run = Promise.all([write, before])
        .then(() => this.beating(() => this.stage(() => this.handler.complete(job, hb))))
        .then(() => this.commit(offsets))
        .finally(() => {
          this.writing--;
        });
      this.previous = before;
      this.inflight = run.catch((err) => {
        this.failed = true;
        this.logger.error({ err }, 'flush failed; nothing after it will be committed');
      });
      return this.inflight;
    });
  }

  private stage(f: () => Promise<void>): Promise<void> {
    if (this.failed) return Promise.reject(new Error('an earlier flush failed'));
    return f();
  }

  /** Runs `f` while heartbeating: keeps the group membership alive while sinks are slow or down. */
  private async beating(f: () => Promise<void>): Promise<void> {
    const beat = setInterval(() => void this.heartbeat().catch(() => {}), 3000);
    try {
      await f();
    } finally {
      clearInterval(beat);
    }
  }

  private async commit(offsets: Map<number, string>): Promise<void> {
    if (this.failed) throw new Error('an earlier flush failed');
    try {
      await this.consumer.commitOffsets(
        [...offsets].map(([partition, offset]) => ({ topic: this.opts.topic, partition, offset })),
      );
    } catch (err) {
      // Lost the partition in a rebalance: its new owner re-reads from the last commit and the
      // sinks are idempotent, so nothing is lost or doubled.
      this.logger.warn({ err }, 'offset commit failed (rebalance?); records will be re-delivered');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.consumer.stop();
    await this.flush();
    await this.consumer.disconnect();
  }
}
