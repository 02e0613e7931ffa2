import type { Logger } from '../common/logger.js';
import type { RecordCodec } from './codec.js';
import { type FinalisedMessage, finalisedChannel, subscribe } from './diagnostics.js';
import type { ComputeActivity } from './finalise.js';
import type { AthleteProfiles, DeadLetter, DeadLetterQueue, EventPublisher } from './ports.js';
import { sessionKey, sessionOf } from './records.js';
import { Sessions } from './sessions.js';
import type { ClickHouseSink } from './sink-clickhouse.js';
import type { S3Archive } from './sink-s3.js';
import { ArchiveSource } from './source-archive.js';
import type { ClickHouseSessionStore } from './store-clickhouse.js';
import { type FlushJob, Worker } from './worker.js';

export interface ReplayOptions {
  /** inclusive lower bound on the record's Kafka timestamp, ms */
  from?: number;
  /** exclusive upper bound, ms */
  to?: number;
  /** only this user's records */
  userId?: string;
  topic?: string;
  /** pipelines algorithm version to compute with (default: this build's) */
  algorithmVersion?: string;
  /** samples per flush job (rows per ClickHouse insert) */
  chunkRows?: number;
  /** longest wait between retries of an unavailable ClickHouse or registry, ms (WORKER_RETRY_MAX_MS) */
  retryMaxMs?: number;
  onProgress?: (p: ReplayProgress) => void;
}

export interface ReplayProgress {
  objects: number;
  objectsDone: number;
  records: number;
  samples: number;
  sessions: number;
  finalised: number;
  phase: 'load' | 'finalise' | 'done';
}

export interface ReplayResult extends ReplayProgress {
  created: number;
  updated: number;
  unchanged: number;
  skippedUndecodable: number;
  /** records of deleted accounts and deleted activities, left out */
  skippedDeleted: number;
}

const noEvents: EventPublisher = { publishActivities: async () => {} };

/** Dead letters only for what failed in the replay itself; records that never decoded were dead-lettered live. */
const UNDECODABLE = new Set(['decode_failed', 'schema_violation']);

/**
 * Rebuilds samples and activities in ClickHouse from the S3 raw archive: every archived record in
 * the range goes through the same Worker as live traffic (source-archive.ts is its Source): decode,
 * the ClickHouse sink with rejection isolation and retries, the DLQ, and batched finalisation — of
 * the sessions that end in a flush as they come, and of all the others at the end. All of it is
 * idempotent, so rebuilding twice gives identical tables; with another algorithm version the
 * activities get that version's numbers and a higher version. The archive and the live view are not
 * written.
 *
 * Finalisation reads each touched session back from the target database, so a session that the
 * range cuts in two is computed from the part that is there: replay whole sessions (a wide enough
 * range, or by user).
 */
export async function replay(
  deps: {
    archive: S3Archive;
    sink: ClickHouseSink;
    store: ClickHouseSessionStore;
    codec: RecordCodec;
    compute: ComputeActivity;
    logger: Logger;
    /** activity events and dead letters (--publish); absent: events go nowhere, dead letters are logged */
    publisher?: EventPublisher & DeadLetterQueue;
    /** athlete profiles, as the live worker uses them (replay-main passes PostgreSQL's) */
    athletes?: AthleteProfiles;
    /**
     * the ids of deleted accounts (PostgreSQL's deleted_users tombstones, read by replay-main), whose
     * archived records are skipped so that a replay does not bring their data back
     */
    deletedUsers?: () => Promise<ReadonlySet<string>>;
    /** the session keys of deleted activities (PostgreSQL's deleted_activities), skipped likewise */
    deletedSessions?: () => Promise<ReadonlySet<string>>;
  },
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const sessions = new Sessions(
    deps.store,
    deps.publisher ?? noEvents,
    deps.compute,
    {
      // nothing times out during the replay; the sessions still open at its end are finalised then
      timeoutMs: 0,
      algorithmVersion: opts.algorithmVersion,
      athletes: deps.athletes,
      // with a publisher (--publish), stored versions are announced again: an interrupted
      // replay's re-run publishes what the interrupted one stored but never sent
      reannounce: deps.publisher !== undefined,
      finaliseReason: 'recompute',
    },
    deps.logger,
  );
  const progress: ReplayProgress = {
    objects: 0,
    objectsDone: 0,
    records: 0,
    samples: 0,
    sessions: 0,
    finalised: 0,
    phase: 'load',
  };
  const report = () => opts.onProgress?.({ ...progress });
  const touched = new Set<string>();
  let skippedUndecodable = 0;
  let skippedDeleted = 0;
  const deleted = (await deps.deletedUsers?.()) ?? new Set<string>();
  const deletedSessions = (await deps.deletedSessions?.()) ?? new Set<string>();
  const dlq: DeadLetterQueue = {
    async deadLetter(items: readonly DeadLetter[], now: number) {
      const forward = items.filter((d) => !UNDECODABLE.has(d.reason));
      skippedUndecodable += items.length - forward.length;
      if (forward.length === 0) return;
      if (deps.publisher) await deps.publisher.deadLetter(forward, now);
      else
        deps.logger.error({ dead: forward.map((d) => `${d.reason}: ${d.message}`) }, 'replay: dead letters');
    },
  };
  const worker = new Worker({
    codec: deps.codec,
    sinks: [deps.sink],
    dlq,
    sessions,
    logger: deps.logger,
    retryMaxMs: opts.retryMaxMs ?? 5000,
    keep: (r) => {
      const s = sessionOf(r.decoded);
      if (opts.userId !== undefined && s.userId !== opts.userId) return false;
      const k = sessionKey(s.deviceId, s.sessionId);
      if (deleted.has(s.userId) || deletedSessions.has(k)) {
        skippedDeleted++;
        return false;
      }
      touched.add(k);
      progress.records++;
      if (r.decoded.kind === 'batch') progress.samples += r.decoded.batch.samples.length;
      return true;
    },
  });
  const unsubscribe = subscribe<FinalisedMessage>(finalisedChannel, (m) => {
    if (m.sessions === sessions) progress.finalised += m.outcomes.length;
  });
  const source = new ArchiveSource<FlushJob>(
    deps.archive,
    {
      topic: opts.topic,
      from: opts.from,
      to: opts.to,
      batchRows: opts.chunkRows ?? 50_000,
      onObject: (done) => {
        progress.objectsDone = done;
        progress.sessions = touched.size;
        report();
      },
    },
    worker,
    deps.logger,
  );
  try {
    await source.start();
    progress.objects = source.objects;
    report();
    await source.finished;
    progress.sessions = touched.size;
    progress.phase = 'finalise';
    report();
    await source.exclusive(() => worker.sweep());
  } finally {
    unsubscribe();
    worker.stop();
  }
  progress.phase = 'done';
  report();
  return {
    ...progress,
    created: sessions.stats.created,
    updated: sessions.stats.updated,
    unchanged: sessions.stats.unchanged,
    skippedUndecodable,
    skippedDeleted,
  };
}

/** A one-line text progress bar for a terminal (written with \r). */
export function progressLine(p: ReplayProgress, width = 30): string {
  const total = p.phase === 'load' ? p.objects : Math.max(1, p.sessions);
  const done = p.phase === 'load' ? p.objectsDone : p.finalised;
  const frac = total === 0 ? 1 : Math.min(1, done / total);
  const fill = Math.round(frac * width);
  const bar = `${'#'.repeat(fill)}${'.'.repeat(width - fill)}`;
  const what = p.phase === 'load' ? `${done}/${total} objects` : `${done}/${total} sessions finalised`;
  return `[${bar}] ${String(Math.round(frac * 100)).padStart(3)}% ${p.phase} ${what}, ${p.records} records, ${p.samples} samples`;
}
