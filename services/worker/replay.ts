import type { Logger } from '../common/logger.js';
import type { RecordCodec } from './codec.js';
import { ReplayFailedError, WorkerError } from './errors.js';
import type { ComputeActivity } from './finalise.js';
import type { AthleteProfiles, EventPublisher, SessionRef } from './ports.js';
import type { InboundRecord, RawRecord } from './records.js';
import { sessionKey } from './records.js';
import { Sessions } from './sessions.js';
import type { ClickHouseSink } from './sink-clickhouse.js';
import type { ArchiveManifest, S3Archive } from './sink-s3.js';
import type { ClickHouseSessionStore } from './store-clickhouse.js';

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
  /** rows per ClickHouse insert */
  chunkRows?: number;
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

function overlaps(m: ArchiveManifest, from?: number, to?: number): boolean {
  return (from === undefined || m.maxTimestamp >= from) && (to === undefined || m.minTimestamp < to);
}

/**
 * Rebuilds samples and activities in ClickHouse from the S3 raw archive: every archived record in
 * the range (deduplicated by partition and offset, since overlapping objects can exist after a
 * crash) goes through the same decode → ClickHouse writes → finalisation as live traffic. All of
 * it is idempotent, so rebuilding twice gives identical tables; with another algorithm version the
 * activities get that version's numbers and a higher version.
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
    publisher?: EventPublisher;
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
  const manifests = (await deps.archive.listManifests(opts.topic)).filter((m) =>
    overlaps(m, opts.from, opts.to),
  );
  manifests.sort((a, b) => a.partition - b.partition || compareOffsets(a.firstOffset, b.firstOffset));
  const sessions = new Sessions(
    deps.store,
    deps.publisher ?? noEvents,
    deps.compute,
    {
      timeoutMs: Number.MAX_SAFE_INTEGER,
      algorithmVersion: opts.algorithmVersion,
      athletes: deps.athletes,
      // with a publisher (--publish), stored versions are announced again: an interrupted
      // replay's re-run publishes what the interrupted one stored but never sent
      reannounce: deps.publisher !== undefined,
    },
    deps.logger,
  );
  const progress: ReplayProgress = {
    objects: manifests.length,
    objectsDone: 0,
    records: 0,
    samples: 0,
    sessions: 0,
    finalised: 0,
    phase: 'load',
  };
  const report = () => opts.onProgress?.({ ...progress });
  const seen = new Set<string>();
  const touched = new Map<string, SessionRef>();
  const chunkRows = opts.chunkRows ?? 50_000;
  let pending: InboundRecord[] = [];
  let pendingRaw: RawRecord[] = [];
  let pendingRows = 0;
  let skipped = 0;
  let skippedDeleted = 0;
  const deleted = (await deps.deletedUsers?.()) ?? new Set<string>();
  const deletedSessions = (await deps.deletedSessions?.()) ?? new Set<string>();
  const flush = async () => {
    if (pending.length === 0) return;
    await deps.sink.writeBatch({ raw: pendingRaw, records: pending });
    pending = [];
    pendingRaw = [];
    pendingRows = 0;
  };
  report();
  for (const m of manifests) {
    for (const raw of await deps.archive.readObject(m)) {
      const id = `${raw.topic}/${raw.partition}@${raw.offset}`;
      if (seen.has(id)) continue;
      seen.add(id);
      if (
        (opts.from !== undefined && raw.timestamp < opts.from) ||
        (opts.to !== undefined && raw.timestamp >= opts.to)
      ) {
        continue;
      }
      let decoded: InboundRecord['decoded'];
      try {
        decoded = await deps.codec.decode(raw.value);
      } catch (err) {
        if (err instanceof WorkerError) {
          skipped++;
          continue;
        }
        throw new ReplayFailedError(`decoding ${id}: ${(err as Error).message}`, { cause: err });
      }
      const s = decoded.kind === 'batch' ? decoded.batch : decoded.control;
      if (opts.userId !== undefined && s.userId !== opts.userId) continue;
      if (deleted.has(s.userId) || deletedSessions.has(sessionKey(s.deviceId, s.sessionId))) {
        skippedDeleted++;
        continue;
      }
      touched.set(sessionKey(s.deviceId, s.sessionId), {
        userId: s.userId,
        deviceId: s.deviceId,
        sessionId: s.sessionId,
        sport: s.sport,
      });
      pending.push({ raw, decoded });
      pendingRaw.push(raw);
      progress.records++;
      const n = decoded.kind === 'batch' ? decoded.batch.samples.length : 1;
      progress.samples += decoded.kind === 'batch' ? n : 0;
      pendingRows += n;
      if (pendingRows >= chunkRows) await flush();
    }
    progress.objectsDone++;
    progress.sessions = touched.size;
    report();
  }
  await flush();
  progress.phase = 'finalise';
  report();
  for (const ref of touched.values()) {
    await sessions.finalise(ref, 'recompute');
    progress.finalised++;
    if (progress.finalised % 10 === 0) report();
  }
  progress.phase = 'done';
  report();
  return {
    ...progress,
    created: sessions.stats.created,
    updated: sessions.stats.updated,
    unchanged: sessions.stats.unchanged,
    skippedUndecodable: skipped,
    skippedDeleted,
  };
}

function compareOffsets(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
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
