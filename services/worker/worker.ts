import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import type { RecordCodec } from './codec.js';
import type { DeletedActivities } from './deleted-activities.js';
import {
  type FinalisedMessage,
  type FinaliseInputsMessage,
  type FlushedMessage,
  finalisedChannel,
  finaliseInputsChannel,
  flushedChannel,
  subscribe,
} from './diagnostics.js';
import { RecordInvalidError, SinkRejectedError, WorkerError } from './errors.js';
import { isolateRejections } from './isolate-rejections.js';
import type { LiveSnapshot, LiveTracker } from './live.js';
import type { DeadLetter, DeadLetterQueue, FlushBatch, LiveStore, Sink } from './ports.js';
import { type InboundRecord, type RawRecord, sessionKey, sessionOf } from './records.js';
import { retryWithBackoff } from './retry.js';
import type { Sessions } from './sessions.js';
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.js';

export interface WorkerDeps {
  codec: RecordCodec;
  /** durable sinks (ClickHouse, archive) */
  sinks: readonly Sink[];
  /**
   * The live view of sessions in progress (absent: none, as in a replay): fed at ingest and pushed to
   * its store every `intervalMs` (default 250), apart from the durable flush — a view for coaches
   * that neither waits for the sinks nor holds them up while Redis is away.
   */
  live?: { store: LiveStore; tracker: LiveTracker; intervalMs?: number };
  dlq: DeadLetterQueue;
  sessions: Sessions;
  logger: Logger;
  registry?: Registry;
  retryMaxMs: number;
  /** the tombstones of deleted activities: their sessions' records are dropped before any sink (absent: none) */
  deletedActivities?: DeletedActivities;
  /**
   * Which decoded records to process (absent: all); the others are dropped at ingest, before any sink
   * (the replay's user and tombstone filters).
   */
  keep?: (record: InboundRecord) => boolean;
}

export interface FlushJob {
  batch: FlushBatch;
  dead: DeadLetter[];
  /** set by write(): when it started, and when each sink acknowledged (ms after the start) */
  t0?: number;
  sinkMs?: Record<string, number>;
  sinksMs?: number;
  endTimer?: () => number;
}

export interface FlushStats {
  records: number;
  samples: number;
  /** now − Kafka timestamp of the oldest / newest record in the flush, ms */
  maxLagMs: number;
  minLagMs: number;
  durationMs: number;
  /** time until every sink acked, then waiting for the previous job's finalisation, then finalising */
  sinksMs: number;
  waitMs: number;
  finaliseMs: number;
  /** per sink, ms */
  sinkMs: Record<string, number>;
}

/**
 * The worker's per-flush logic (the SourceHandler of KafkaSource): decode → DLQ the bad → write
 * every sink in parallel, each retried until it acknowledges → finalise the sessions that are
 * due. Resolves only when all of it is durable; the source then commits the offsets.
 */
export class Worker {
  private raw: RawRecord[] = [];
  private records: InboundRecord[] = [];
  private dead: DeadLetter[] = [];
  /** records ingested since the live view last took them (only with `live`) */
  private liveRecords: InboundRecord[] = [];
  /** snapshots the live store has not acknowledged yet (it was away): the latest per activity */
  private liveUnsent = new Map<string, LiveSnapshot>();
  /** the live push in progress or queued (one at a time, in order) */
  private liveRun: Promise<void> = Promise.resolve();
  private liveQueued = 0;
  private readonly liveTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  readonly metrics: WorkerMetrics;

  private readonly unsubscribe: (() => void)[];

  constructor(private readonly d: WorkerDeps) {
    this.metrics = createWorkerMetrics(d.registry);
    this.unsubscribe = [
      subscribe<FinalisedMessage>(finalisedChannel, (m) => {
        if (m.sessions !== d.sessions) return;
        for (const outcome of m.outcomes) {
          this.metrics.finalised.inc({ outcome });
          if (outcome === 'failed') this.metrics.dlq.inc({ reason: 'finalise_failed' });
        }
      }),
      subscribe<FinaliseInputsMessage>(finaliseInputsChannel, (m) => {
        if (m.sessions !== d.sessions) return;
        if (m.memory > 0) this.metrics.finaliseInputs.inc({ source: 'memory' }, m.memory);
        if (m.clickhouse > 0) this.metrics.finaliseInputs.inc({ source: 'clickhouse' }, m.clickhouse);
      }),
    ];
    if (d.live) {
      this.liveTimer = setInterval(() => {
        if (this.liveQueued === 0) void this.publishLive();
      }, d.live.intervalMs ?? 250);
      this.liveTimer.unref();
    }
  }

  async ingest(raw: RawRecord): Promise<number> {
    this.raw.push(raw);
    this.metrics.records.inc();
    try {
      const decoded = await this.decodeWaiting(raw.value);
      const record = { raw, decoded };
      if (this.d.keep && !this.d.keep(record)) return 1;
      this.records.push(record);
      if (this.d.live) this.liveRecords.push(record);
      const n = decoded.kind === 'batch' ? decoded.batch.samples.length : 1;
      this.metrics.samples.inc(decoded.kind === 'batch' ? n : 0);
      return n;
    } catch (err) {
      if (!(err instanceof WorkerError)) throw err;
      const reason = err instanceof RecordInvalidError ? 'schema_violation' : 'decode_failed';
      this.dead.push({ raw, reason, message: err.message, deviceId: null });
      this.metrics.dlq.inc({ reason });
      return 1;
    }
  }

  /** Decodes; while the registry is unreachable (a retryable error) it waits rather than dead-letters. */
  private decodeWaiting(value: Buffer | null) {
    return retryWithBackoff(() => this.d.codec.decode(value), {
      maxMs: this.d.retryMaxMs,
      giveUp: (err) => (err as { retryable?: unknown }).retryable !== true || this.stopping,
      beforeWait: (err, delayMs) =>
        this.d.logger.warn({ err: (err as Error).message, delayMs }, 'schema registry unavailable, waiting'),
    });
  }

  assigned(partitions: number[]): void {
    this.d.sessions.assign(partitions);
  }

  /**
   * Retries `f` with capped exponential back-off until it resolves (or the worker stops), counting
   * and logging each failure and heartbeating while it waits; `rethrowRejected`: a SinkRejectedError
   * (a retry will not help) is thrown instead.
   */
  private retry(
    name: string,
    f: () => Promise<void>,
    heartbeat: () => Promise<void>,
    rethrowRejected = false,
  ): Promise<void> {
    return retryWithBackoff(f, {
      maxMs: this.d.retryMaxMs,
      giveUp: (err) => this.stopping || (rethrowRejected && err instanceof SinkRejectedError),
      beforeWait: async (err, delayMs) => {
        const code = err instanceof WorkerError ? err.code : 'UNKNOWN';
        this.metrics.sinkRetries.inc({ sink: name, code });
        this.d.logger.warn(
          { err: (err as Error).message, sink: name, code, delayMs },
          'sink write failed, retrying',
        );
        await heartbeat();
      },
    });
  }

  /** Takes everything ingested so far as one flush job (synchronous: ingest goes on into new buffers). */
  take(): FlushJob {
    const job: FlushJob = { batch: { raw: this.raw, records: this.records }, dead: this.dead };
    this.raw = [];
    this.records = [];
    this.dead = [];
    return job;
  }

  /** take() + write() + complete(): for callers that do not overlap ingest with writing. */
  async flush(heartbeat: () => Promise<void>): Promise<void> {
    const job = this.take();
    await this.write(job, heartbeat);
    await this.complete(job, heartbeat);
  }

  /**
   * Stage 1: makes one job durable in every sink (and the DLQ; the live view has its own push). Jobs must be
   * written in order, one at a time; the next job's write may overlap this one's complete().
   */
  async write(job: FlushJob, heartbeat: () => Promise<void>): Promise<void> {
    if (this.d.deletedActivities) await this.dropDeleted(job, heartbeat);
    const { batch, dead } = job;
    job.endTimer = this.metrics.flushSeconds.startTimer();
    const t0 = performance.now();
    job.t0 = t0;
    const sinkMs: Record<string, number> = {};
    job.sinkMs = sinkMs;
    const timed = (name: string, f: () => Promise<void>) =>
      this.retry(name, f, heartbeat).then(() => {
        sinkMs[name] = Math.round(performance.now() - t0);
      });
    const rejected: DeadLetter[] = [];
    // before any sink writes this batch: which of its new sessions ClickHouse has never seen
    await this.retry('prepare', () => this.d.sessions.beforeWrite(batch), heartbeat);
    await Promise.all([
      ...this.d.sinks.map((s) =>
        s.isolatesRejections
          ? this.writeIsolating(s, batch.records, heartbeat, rejected).then(() => {
              sinkMs[s.name] = Math.round(performance.now() - t0);
            })
          : timed(s.name, () => s.writeBatch(batch)),
      ),
      timed('dlq', () => this.d.dlq.deadLetter(dead, Date.now())),
    ]);
    if (rejected.length > 0) await this.setAside(job, rejected, heartbeat);
    job.sinksMs = Math.round(performance.now() - t0);
  }

  /**
   * Takes the records of deleted activities out of the job (one tombstone look-up per flush), so that no
   * sink stores them and no finalisation sees them: a late sample does not bring a deleted activity back.
   * The raw records stay in the job (the archive keeps what was consumed; the replay skips them too).
   */
  private async dropDeleted(job: FlushJob, heartbeat: () => Promise<void>): Promise<void> {
    const records = job.batch.records;
    if (records.length === 0) return;
    const keys = new Map<InboundRecord, string>();
    const refs = new Map<string, { deviceId: string; sessionId: string }>();
    for (const r of records) {
      const s = sessionOf(r.decoded);
      const k = sessionKey(s.deviceId, s.sessionId);
      keys.set(r, k);
      refs.set(k, s);
    }
    let deleted: ReadonlySet<string> = new Set();
    await this.retry(
      'tombstones',
      async () => {
        deleted = await this.d.deletedActivities!([...refs.values()]);
      },
      heartbeat,
    );
    if (deleted.size === 0) return;
    // the live view looks such a session up again before it shows any more of it
    for (const k of deleted) this.d.live?.tracker.forget(k);
    const kept = records.filter((r) => !deleted.has(keys.get(r)!));
    this.metrics.deletedRecords.inc(records.length - kept.length);
    job.batch = { raw: job.batch.raw, records: kept };
  }

  /**
   * Writes `records` to a sink that may reject some of them: retried while the sink is unavailable;
   * when it rejects the write (a SinkRejectedError: the server refused the data), the rejected
   * records are isolated (isolate-rejections.ts) and added to `rejected`.
   */
  private async writeIsolating(
    sink: Sink,
    records: readonly InboundRecord[],
    heartbeat: () => Promise<void>,
    rejected: DeadLetter[],
  ): Promise<void> {
    const refused = await isolateRejections(
      records,
      (rs) =>
        this.retry(
          sink.name,
          () => sink.writeBatch({ raw: rs.map((r) => r.raw), records: rs }),
          heartbeat,
          true,
        ),
      (err): err is SinkRejectedError => err instanceof SinkRejectedError && !this.stopping,
      (err, n) => {
        this.metrics.sinkRetries.inc({ sink: sink.name, code: err.code });
        this.d.logger.warn(
          { err: err.message, sink: sink.name, records: n },
          'sink rejected a write; splitting it to isolate the records at fault',
        );
      },
    );
    for (const { item: r, error } of refused) {
      rejected.push({
        raw: r.raw,
        reason: 'sink_rejected',
        message: error.message,
        deviceId: sessionOf(r.decoded).deviceId,
      });
    }
  }

  /**
   * Dead-letters records a sink rejected and takes them out of the job, so finalisation and the
   * in-memory session images see only what was written (their sessions are read back from now on).
   * Resolves when the DLQ acknowledged them: the job's offsets are committed only after that.
   */
  private async setAside(
    job: FlushJob,
    rejected: DeadLetter[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    await this.retry('dlq', () => this.d.dlq.deadLetter(rejected, Date.now()), heartbeat);
    this.metrics.dlq.inc({ reason: 'sink_rejected' }, rejected.length);
    const out = new Set(rejected.map((d) => d.raw));
    for (const r of job.batch.records) {
      if (!out.has(r.raw)) continue;
      const s = sessionOf(r.decoded);
      this.d.sessions.images.readBackOnly(sessionKey(s.deviceId, s.sessionId), r.raw.partition, s.userId);
      this.d.logger.error(
        { sessionId: s.sessionId, deviceId: s.deviceId, offset: r.raw.offset, partition: r.raw.partition },
        'record rejected by a sink; dead-lettered (sink_rejected)',
      );
    }
    job.batch = { raw: job.batch.raw, records: job.batch.records.filter((r) => !out.has(r.raw)) };
  }

  /**
   * Stage 2, after write(job) resolved: finalises what is due (that needs the job durable).
   * Jobs complete in order, one at a time; the source commits a job's offsets after this.
   */
  async complete(job: FlushJob, heartbeat: () => Promise<void>): Promise<void> {
    const { batch } = job;
    const t1 = performance.now();
    await this.retry('finalise', () => this.d.sessions.afterFlush(batch), heartbeat);
    const t2 = performance.now();
    this.publishStats();
    const durationMs = (job.endTimer?.() ?? 0) * 1000;
    const now = Date.now();
    let minTs = Number.POSITIVE_INFINITY;
    let maxTs = 0;
    let samples = 0;
    for (const r of batch.raw) {
      if (r.timestamp < minTs) minTs = r.timestamp;
      if (r.timestamp > maxTs) maxTs = r.timestamp;
      this.metrics.lag.observe((now - r.timestamp) / 1000);
    }
    for (const r of batch.records) if (r.decoded.kind === 'batch') samples += r.decoded.batch.samples.length;
    if (batch.raw.length > 0 && flushedChannel.hasSubscribers) {
      const stats: FlushStats = {
        records: batch.raw.length,
        samples,
        maxLagMs: now - minTs,
        minLagMs: now - maxTs,
        durationMs,
        sinksMs: job.sinksMs ?? 0,
        finaliseMs: Math.round(t2 - t1),
        waitMs: Math.max(0, Math.round(t1 - (job.t0 ?? t1)) - (job.sinksMs ?? 0)),
        sinkMs: job.sinkMs ?? {},
      };
      flushedChannel.publish({ worker: this, stats } satisfies FlushedMessage);
    }
  }

  /**
   * Folds the records ingested since the last push into the live view and sends the changed snapshots
   * to the live store, once (the timer calls it every `live.intervalMs`; close calls it last). While
   * the store is away the latest snapshot of each session waits for the next push: memory stays bounded
   * by the sessions in progress, and the durable path goes on.
   */
  publishLive(): Promise<void> {
    this.liveQueued++;
    const run = this.liveRun.then(async () => {
      this.liveQueued--;
      try {
        await this.pushLive();
      } catch (err) {
        // never rejects: the next push must still run (and the timer's call is not awaited)
        this.d.logger.error({ err }, 'live push failed');
      }
    });
    this.liveRun = run;
    return run;
  }

  private async pushLive(): Promise<void> {
    const live = this.d.live;
    if (!live) return;
    if (this.liveRecords.length > 0) {
      const taken = this.liveRecords;
      this.liveRecords = [];
      let records: InboundRecord[];
      try {
        records = await this.notDeleted(live.tracker, taken);
      } catch (err) {
        // the tombstones are away (the flush waits for them too, so ingest stops soon): next push
        this.liveRecords = taken.concat(this.liveRecords);
        this.d.logger.warn({ err: (err as Error).message }, 'live view: tombstones unavailable, retrying');
        return;
      }
      for (const snap of live.tracker.apply({ raw: [], records })) this.liveUnsent.set(snap.activityId, snap);
    }
    if (this.liveUnsent.size === 0) return;
    const states = [...this.liveUnsent.values()];
    const end = this.metrics.livePublishSeconds.startTimer();
    try {
      await live.store.publish(states);
      this.liveUnsent.clear();
      end();
    } catch (err) {
      const code = err instanceof WorkerError ? err.code : 'UNKNOWN';
      this.metrics.sinkRetries.inc({ sink: live.store.name, code });
      this.d.logger.warn(
        { err: (err as Error).message, sink: live.store.name, code, sessions: states.length },
        'live state not published; the latest of each session goes with the next push',
      );
    }
  }

  /**
   * The records the live view may show: a session it does not track yet (new, ended, or forgotten when
   * the flush found it deleted) is looked up in the tombstones first — one query per push that brings
   * such sessions — so a late sample of a deleted activity does not come back to life there either.
   */
  private async notDeleted(tracker: LiveTracker, records: InboundRecord[]): Promise<InboundRecord[]> {
    const deleted = this.d.deletedActivities;
    if (!deleted) return records;
    const keys: string[] = new Array(records.length);
    const fresh = new Map<string, { deviceId: string; sessionId: string }>();
    for (let i = 0; i < records.length; i++) {
      const s = sessionOf(records[i]!.decoded);
      const k = sessionKey(s.deviceId, s.sessionId);
      keys[i] = k;
      if (!tracker.has(k) && !fresh.has(k)) fresh.set(k, { deviceId: s.deviceId, sessionId: s.sessionId });
    }
    if (fresh.size === 0) return records;
    const gone = await deleted([...fresh.values()]);
    if (gone.size === 0) return records;
    return records.filter((_, i) => !gone.has(keys[i]!));
  }

  async sweep(): Promise<void> {
    await this.retry(
      'sweep',
      async () => {
        await this.d.sessions.sweep();
      },
      async () => {},
    );
    this.publishStats();
  }

  private publishStats(): void {
    this.metrics.openSessions.set(this.d.sessions.openCount);
    this.metrics.imageBytes.set(this.d.sessions.images.bytesHeld);
    if (this.d.live) this.metrics.liveBytes.set(this.d.live.tracker.bytesHeld());
  }

  stop(): void {
    this.stopping = true;
    if (this.liveTimer) clearInterval(this.liveTimer);
    for (const u of this.unsubscribe) u();
  }
}
