// The engagement consumer group on activities.v1: each fetched batch of one partition is applied in
// one PostgreSQL transaction, and its offset is committed only after that transaction committed. A
// crash in between re-delivers the batch, which then changes nothing (store-postgres.ts). While
// PostgreSQL is down the batch is retried with back-off and heartbeats, never skipped.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../common/logger.js';
import type { EngagementCodec } from './codec.js';
import { EngagementError } from './errors.js';
import type { EngagementMetrics } from './metrics.js';
import type { ActivityEventIn, BatchResult } from './store-postgres.js';

export interface ActivitySourceOptions {
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  retryMaxMs: number;
  /** partitions applied at once, each in its own transaction (their athletes never overlap) */
  concurrency: number;
  sessionTimeoutMs?: number;
}

export type ApplyBatch = (events: ActivityEventIn[]) => Promise<BatchResult>;

export class ActivitySource {
  private readonly consumer: Consumer;
  /** performance.now() of the last applied batch; benches and tests read it */
  lastAppliedAt = 0;

  constructor(
    kafka: Kafka,
    private readonly opts: ActivitySourceOptions,
    private readonly codec: EngagementCodec,
    private readonly apply: ApplyBatch,
    private readonly metrics: EngagementMetrics,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 15_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 100,
      retry: { retries: 50, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const parts = e.payload.memberAssignment[opts.topic] ?? [];
      this.logger.info({ partitions: parts }, 'partitions assigned');
      this.metrics.lag.reset();
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.opts.topic], fromBeginning: this.opts.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.concurrency,
      eachBatch: (p) => this.eachBatch(p),
    });
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    if (batch.messages.length === 0 || !p.isRunning() || p.isStale()) return;
    const events: ActivityEventIn[] = [];
    for (const m of batch.messages) {
      for (let backoff = 200; ; backoff = Math.min(this.opts.retryMaxMs, backoff * 2)) {
        try {
          const d = await this.codec.decodeActivity(m.value);
          events.push(d.event);
          break;
        } catch (err) {
          if (err instanceof EngagementError && err.code === 'event_invalid') {
            this.metrics.eventsIn.inc({ outcome: 'invalid' });
            this.logger.warn(
              { offset: m.offset, partition: batch.partition, err: err.message },
              'skipped an invalid record',
            );
            break;
          }
          // the registry is unreachable: wait, the record is not skipped
          if (!p.isRunning() || p.isStale()) return;
          this.logger.warn({ err: (err as Error).message }, 'decoding: retrying');
          await p.heartbeat().catch(() => {});
          await sleep(backoff);
        }
      }
    }
    for (let backoff = 200; ; backoff = Math.min(this.opts.retryMaxMs, backoff * 2)) {
      const end = this.metrics.batchSeconds.startTimer();
      try {
        const r = events.length > 0 ? await this.apply(events) : { changed: 0, users: 0, facts: 0 };
        end();
        this.metrics.eventsIn.inc({ outcome: 'applied' }, r.changed);
        this.metrics.eventsIn.inc({ outcome: 'duplicate' }, events.length - r.changed);
        break;
      } catch (err) {
        if (!(err instanceof EngagementError) || !err.retryable) throw err;
        if (!p.isRunning() || p.isStale()) return;
        this.logger.warn({ err: err.message, backoff }, 'applying a batch: retrying');
        await p.heartbeat().catch(() => {});
        await sleep(backoff);
      }
    }
    const last = batch.messages[batch.messages.length - 1]!.offset;
    p.resolveOffset(last);
    try {
      await this.consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
      ]);
    } catch (err) {
      // lost the partition in a rebalance: its new owner re-reads the batch, which changes nothing
      this.logger.warn(
        { err: (err as Error).message },
        'offset commit failed; the batch will be re-delivered',
      );
    }
    this.metrics.lag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
    this.lastAppliedAt = performance.now();
    await p.heartbeat().catch(() => {});
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    await this.consumer.disconnect();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
