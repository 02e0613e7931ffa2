// The background runner of file imports, in the API process: claims a queued import (FOR UPDATE SKIP LOCKED,
// under a lease it renews per file), reads the upload from S3, and works through its files one at a time.
// A file's result row is written only after its activities are claimed and Kafka acknowledged their records,
// so a runner that dies mid-file leaves the file to the next claimant, which sends the same records under the
// same ids again (the worker keeps one copy of each sample identity). docs/imports.md, Background job.

import { randomUUID } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import type pg from 'pg';
import type { Sport } from '../../schemas/vocabulary.js';
import type { Logger } from '../common/logger.js';
import { WakeableSleep } from '../common/wakeable-sleep.js';
import { ImportParser, type PreparedActivity } from './import-prepare.js';
import {
  compatibleSports,
  IMPORT_LIMITS,
  ImportArchiveError,
  ImportFileError,
  type ImportFileReason,
  type ImportLimitsApi,
  OVERLAP_SHARE,
  openUpload,
  type UploadEntry,
} from './imports.js';
import type { ImportStore } from './imports-s3.js';
import type { TelemetryProducer } from './producer-kafka.js';

/** Published after each file's result is stored: { importId, idx, status }. Tests and metrics subscribe. */
export const importFileChannel = channel('fitstream:api:import-file');

export interface ImportRunnerOptions {
  pg: pg.Pool;
  store: ImportStore;
  telemetry: TelemetryProducer;
  logger: Logger;
  /** the imports this runner takes (imports.queue) */
  queue?: string;
  /** how long a claim holds without renewal; another runner takes the import over after it */
  leaseMs?: number;
  /** how often an idle runner looks for work (a POST wakes it at once) */
  pollMs?: number;
  limits?: ImportLimitsApi;
  /** claims of one import before it is failed as attempts_exhausted (a file that kills the process each time) */
  maxAttempts?: number;
  /**
   * worker threads that unpack, parse and encode the files (API_IMPORT_THREADS), off the event loop that
   * serves requests and sends to Kafka; 0 does it on the event loop
   */
  threads?: number;
}

interface Job {
  id: string;
  user_id: string;
  object_key: string;
  default_sport: Exclude<Sport, 'strength'>;
  attempts: number;
}

interface FileResult {
  name: string;
  format: string | null;
  sha256: string | null;
  status: 'imported' | 'duplicate' | 'failed';
  reason: ImportFileReason | null;
  detail: string | null;
  points: number;
  created: number;
  duplicates: number;
  activityIds: string[];
}

/** A file read and planned, before any write: a failed result (plans null), or the activities to claim and send. */
interface Prepared {
  result: FileResult;
  plans: { plan: PreparedActivity; format: string }[] | null;
}

/**
 * Files being read and parsed ahead of the one being stored. One ahead left the parser's thread idle while
 * a file was sent; two or three kept it busy (bench/import-throughput.ts, 500-file zip: 3.9-4.3 s one ahead,
 * 3.2-3.6 s three ahead).
 */
const PREPARE_AHEAD = 3;

/** The lease was taken over (this runner was too slow or was thought dead): stop without writing more. */
class LeaseLost extends Error {}

export class ImportRunner {
  private readonly owner = `api-${randomUUID()}`;
  private readonly queue: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly limits: ImportLimitsApi;
  private readonly maxAttempts: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly naps = new WakeableSleep();
  private stopping = false;
  private closed = false;
  /** made on first use and ended by close(), so that a runner started again gets a new one */
  private parser: ImportParser | undefined;

  constructor(private readonly o: ImportRunnerOptions) {
    this.queue = o.queue ?? 'default';
    this.leaseMs = o.leaseMs ?? 30_000;
    this.pollMs = o.pollMs ?? 2_000;
    this.limits = o.limits ?? IMPORT_LIMITS;
    this.maxAttempts = o.maxAttempts ?? 20;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.closed = false;
    this.loop = this.run();
  }

  /** A new import is queued: look now instead of at the next poll. */
  wake(): void {
    this.naps.wake();
  }

  /**
   * Stops after the file in hand. `release: true` (a graceful shutdown) hands the import back at once;
   * false leaves the lease to run out, as a crash would.
   */
  async close(opts: { release?: boolean } = { release: true }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping = true;
    this.wake();
    await this.loop;
    this.running = false;
    await this.parser?.close();
    this.parser = undefined;
    if (opts.release)
      await this.o.pg
        .query('UPDATE imports SET lease_until = now() WHERE lease_owner = $1 AND status = $2', [
          this.owner,
          'running',
        ])
        .catch(() => {});
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let worked = false;
      let job: Job | undefined;
      try {
        job = await this.claim();
        if (job) {
          worked = true;
          await this.process(job);
        }
      } catch (err) {
        if (!(err instanceof LeaseLost)) {
          this.o.logger.warn({ err: (err as Error).message, importId: job?.id }, 'import runner: will retry');
          // An outage (S3, PostgreSQL, Kafka) is no attempt of the import's own: uncount it, and let the
          // import wait a lease before the next try, by this runner or another.
          if (job)
            await this.o.pg
              .query('UPDATE imports SET attempts = attempts - 1 WHERE id = $1 AND lease_owner = $2', [
                job.id,
                this.owner,
              ])
              .catch(() => {});
        }
      }
      if (!worked && !this.stopping) await this.naps.sleep(this.pollMs);
    }
  }

  private async claim(): Promise<Job | undefined> {
    const { rows } = await this.o.pg.query<Job>(
      `UPDATE imports SET status = 'running', lease_owner = $1,
         lease_until = now() + $3 * interval '1 millisecond', attempts = attempts + 1
       WHERE id = (SELECT id FROM imports
                   WHERE queue = $2 AND status IN ('queued', 'running')
                     AND (lease_until IS NULL OR lease_until < now())
                   ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id, user_id, object_key, default_sport, attempts`,
      [this.owner, this.queue, this.leaseMs],
    );
    return rows[0];
  }

  /** Renews the lease; LeaseLost when another runner holds the import now. */
  private async renew(job: Job): Promise<void> {
    const r = await this.o.pg.query(
      `UPDATE imports SET lease_until = now() + $3 * interval '1 millisecond'
       WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [job.id, this.owner, this.leaseMs],
    );
    if (r.rowCount !== 1) throw new LeaseLost(`import ${job.id} is no longer ours`);
  }

  private async finish(job: Job, status: 'done' | 'failed', reason?: string, detail?: string) {
    await this.o.pg.query(
      `UPDATE imports SET status = $3, reason = $4, detail = $5, finished_at = now(), lease_owner = NULL,
         lease_until = NULL
       WHERE id = $1 AND lease_owner = $2`,
      [job.id, this.owner, status, reason ?? null, detail ?? null],
    );
  }

  private async process(job: Job): Promise<void> {
    if (job.attempts > this.maxAttempts) {
      await this.finish(
        job,
        'failed',
        'attempts_exhausted',
        `claimed ${job.attempts - 1} times without finishing`,
      );
      return;
    }
    const bytes = await this.o.store.get(job.object_key);
    let upload: Awaited<ReturnType<typeof openUpload>>;
    try {
      upload = await openUpload(bytes, this.limits);
    } catch (err) {
      if (err instanceof ImportArchiveError) {
        await this.finish(job, 'failed', err.code, err.message);
        return;
      }
      throw err;
    }
    try {
      await this.o.pg.query('UPDATE imports SET files_total = $2 WHERE id = $1', [
        job.id,
        upload.entries.length,
      ]);
      const { rows } = await this.o.pg.query<{ idx: number }>(
        'SELECT idx FROM import_files WHERE import_id = $1',
        [job.id],
      );
      const done = new Set(rows.map((r) => r.idx));
      // The next files are read and parsed (in the parser's thread) while the one before them waits for
      // PostgreSQL and Kafka: up to PREPARE_AHEAD prepared or being prepared. Each file's writes still start
      // only after the previous file's result is stored.
      const todo = upload.entries.flatMap((entry, idx) => (done.has(idx) ? [] : [{ entry, idx }]));
      const ahead: { idx: number; prepared: Promise<Prepared> }[] = [];
      let next = 0;
      const fill = () => {
        while (ahead.length < PREPARE_AHEAD && next < todo.length && !this.stopping) {
          const { entry, idx } = todo[next++]!;
          const prepared = this.prepare(job, entry);
          // awaited in turn below; until then (or if the loop stops first) a failure is not unhandled
          prepared.catch(() => {});
          ahead.push({ idx, prepared });
        }
      };
      let inFlight: Promise<void> | undefined;
      let stopped = false;
      try {
        fill();
        for (let head = ahead.shift(); head; head = ahead.shift()) {
          if (this.stopping) {
            stopped = true;
            break;
          }
          const prepared = await head.prepared;
          fill();
          if (inFlight) await inFlight;
          inFlight = undefined;
          if (this.stopping) {
            stopped = true;
            break;
          }
          inFlight = this.commit(job, head.idx, prepared);
          // awaited before the next file's writes; until then a failure must not count as unhandled
          inFlight.catch(() => {});
        }
        if (inFlight) await inFlight;
        inFlight = undefined;
        if (this.stopping && next < todo.length) stopped = true;
      } finally {
        // a failure while preparing a file waits for the file before it to settle, and for the files being
        // prepared: nothing is left running
        if (inFlight) await inFlight.catch(() => {});
        await Promise.allSettled(ahead.map((a) => a.prepared));
      }
      if (stopped) return;
      await this.finish(job, 'done');
    } finally {
      upload.close();
    }
  }

  /** Stores one prepared file: its activities claimed and sent, then its result row. */
  private async commit(job: Job, idx: number, prepared: Prepared): Promise<void> {
    await this.renew(job);
    const result = await this.file(job, idx, prepared);
    await this.o.pg.query(
      `INSERT INTO import_files (import_id, idx, name, format, sha256, status, reason, detail, points,
         activities_created, duplicates_skipped, activity_ids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (import_id, idx) DO NOTHING`,
      [
        job.id,
        idx,
        result.name.slice(0, 1024),
        result.format,
        result.sha256,
        result.status,
        result.reason,
        result.detail?.slice(0, 2000) ?? null,
        result.points,
        result.created,
        result.duplicates,
        result.activityIds,
      ],
    );
    importFileChannel.publish({ importId: job.id, idx, status: result.status });
  }

  /**
   * One file read, parsed, planned and encoded (in the parser's worker thread), no I/O but the read of its
   * bytes. Bad bytes are a failed result; an outage throws and is retried.
   */
  private async prepare(job: Job, entry: UploadEntry): Promise<Prepared> {
    const result: FileResult = {
      name: entry.name,
      format: null,
      sha256: null,
      status: 'failed',
      reason: null,
      detail: null,
      points: 0,
      created: 0,
      duplicates: 0,
      activityIds: [],
    };
    try {
      this.parser ??= new ImportParser(this.o.threads ?? 1);
      const out = await this.parser.prepare({
        stored: await entry.stored(),
        userId: job.user_id,
        defaultSport: job.default_sport,
        receivedAt: Date.now(),
        limits: this.limits,
        schemaIds: await this.o.telemetry.schemaIds(),
      });
      result.format = out.format;
      result.sha256 = out.sha256;
      if (!out.ok) return { result: { ...result, reason: out.reason, detail: out.detail }, plans: null };
      return { result, plans: out.activities.map((plan) => ({ plan, format: out.format })) };
    } catch (err) {
      if (err instanceof ImportFileError)
        return {
          result: { ...result, reason: err.code as ImportFileReason, detail: err.message },
          plans: null,
        };
      throw err;
    }
  }

  /** A prepared file to its result: its activities claimed (or found duplicate) and sent. An outage throws. */
  private async file(job: Job, idx: number, prepared: Prepared): Promise<FileResult> {
    const { plans } = prepared;
    const result: FileResult = { ...prepared.result, activityIds: [] };
    if (plans === null) return result;
    for (const { plan, format } of plans) {
      result.points += plan.points;
      const decision = await this.claimActivity(job, idx, plan, format, plan.totals);
      if (decision.duplicateOf) {
        result.duplicates++;
        result.activityIds.push(decision.duplicateOf);
        continue;
      }
      await this.o.telemetry.sendEncoded(plan.sessionId, plan.values);
      await this.o.pg.query('UPDATE imported_activities SET produced_at = now() WHERE activity_id = $1', [
        plan.activityId,
      ]);
      result.created++;
      result.activityIds.push(plan.activityId);
    }
    result.status = result.created > 0 ? 'imported' : 'duplicate';
    if (result.created > 0 && plans.some((p) => p.plan.sportDefaulted)) {
      result.reason = 'sport_defaulted';
      result.detail = `a sport Fitstream does not have; imported as ${job.default_sport}`;
    }
    return result;
  }

  /**
   * Claims the activity for this file, or names the activity it duplicates: the same content (same file,
   * any import of the caller's), or another recording of the same workout (compatible sport, overlapping by
   * OVERLAP_SHARE of the shorter). One lock per athlete makes the check and the claim one step, so two
   * imports running at once cannot both claim one workout.
   */
  private async claimActivity(
    job: Job,
    idx: number,
    plan: PreparedActivity,
    format: string,
    totals: Record<string, unknown> | null,
  ): Promise<{ duplicateOf?: string }> {
    const c = await this.o.pg.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`import:${job.user_id}`]);
      const same = await c.query<{ activity_id: string; import_id: string; file_idx: number }>(
        'SELECT activity_id, import_id, file_idx FROM imported_activities WHERE user_id = $1 AND content_key = $2',
        [job.user_id, plan.key],
      );
      const mine = same.rows[0];
      if (mine) {
        await c.query('COMMIT');
        // claimed by this very file before a crash: send again (same ids), count it as created
        return mine.import_id === job.id && mine.file_idx === idx ? {} : { duplicateOf: mine.activity_id };
      }
      const overlap = await c.query<{ activity_id: string }>(
        `SELECT activity_id FROM imported_activities
         WHERE user_id = $1 AND sport = ANY($2) AND start_ts <= $4 AND end_ts >= $3
           AND LEAST(end_ts, $4) - GREATEST(start_ts, $3) >= $5::float8 * LEAST(end_ts - start_ts, $4 - $3)
         ORDER BY start_ts LIMIT 1`,
        [job.user_id, compatibleSports(plan.sport), plan.startTs, plan.endTs, OVERLAP_SHARE],
      );
      if (overlap.rows[0]) {
        await c.query('COMMIT');
        return { duplicateOf: overlap.rows[0].activity_id };
      }
      await c.query(
        `INSERT INTO imported_activities (activity_id, user_id, import_id, file_idx, content_key, format, sport,
           start_ts, end_ts, device_totals)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          plan.activityId,
          job.user_id,
          job.id,
          idx,
          plan.key,
          format,
          plan.sport,
          plan.startTs,
          plan.endTs,
          totals === null ? null : JSON.stringify(totals),
        ],
      );
      await c.query('COMMIT');
      return {};
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }
}
