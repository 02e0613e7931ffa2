// Account exports as a job (POST /v1/users/me/exports; docs/exports.md, "As a job"): for an account too large
// to download in one long request. A runner in the API process claims a queued export (FOR UPDATE SKIP LOCKED,
// under a lease it renews while it works), writes the zip of GET /v1/users/me/export to a temporary file (memory
// bounded by one activity, as there), stores it in S3 and marks the export done. A runner that dies leaves the
// export to the next claimant once the lease ran out; the zip is rebuilt from the start.

import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import type { ZipFile } from 'yazl';
import { WakeableSleep } from '../common/wakeable-sleep.js';

/** Where export zips are kept: `{prefix}/{user_id}/{export_id}.zip`. */
export interface ExportStore {
  keyFor(userId: string, exportId: string): string;
  /** stores a file of `bytes` bytes, streamed */
  putFile(key: string, path: string, bytes: number): Promise<void>;
  get(key: string): Promise<{ body: Readable; bytes: number }>;
  /** removing what is not there is no error */
  remove(key: string): Promise<void>;
}

export function s3ExportStore(s3: S3Client, bucket: string, prefix: string): ExportStore {
  const p = prefix.replace(/\/+$/, '');
  return {
    keyFor: (userId, exportId) => `${p ? `${p}/` : ''}${userId}/${exportId}.zip`,
    async putFile(key, path, bytes) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: createReadStream(path),
          ContentLength: bytes,
          ContentType: 'application/zip',
        }),
      );
    },
    async get(key) {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!r.Body) throw new Error(`s3://${bucket}/${key} has no body`);
      return { body: r.Body as Readable, bytes: Number(r.ContentLength ?? 0) };
    },
    async remove(key) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

export interface ExportRunnerOptions {
  pg: pg.Pool;
  store: ExportStore;
  /** the exports this runner takes (account_exports.queue) */
  queue: string;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** the account's zip for this athlete (routes/account-export.ts accountZip, as that athlete) */
  zipOf(userId: string, exportId: string): Promise<ZipFile>;
  leaseMs?: number;
  /** how often an idle runner looks for an export another process left (a POST wakes it at once) */
  pollMs?: number;
  /** claims of one export before it is failed as attempts_exhausted */
  maxAttempts?: number;
  /** how long a finished export is kept: then its zip and its row are removed (EXPORT_TTL_MS by default) */
  ttlMs?: number;
}

/** A finished export is kept a week, then removed (zip and row): GET answers 404 as for what is not there. */
export const EXPORT_TTL_MS = 7 * 24 * 3600 * 1000;

interface Job {
  id: string;
  user_id: string;
  object_key: string;
  attempts: number;
}

export class ExportRunner {
  private readonly owner = `api-${randomUUID()}`;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly maxAttempts: number;
  private readonly ttlMs: number;
  private loop: Promise<void> | undefined;
  private readonly naps = new WakeableSleep();
  private stopping = false;

  constructor(private readonly o: ExportRunnerOptions) {
    this.leaseMs = o.leaseMs ?? 60_000;
    this.pollMs = o.pollMs ?? 10_000;
    this.maxAttempts = o.maxAttempts ?? 5;
    this.ttlMs = o.ttlMs ?? EXPORT_TTL_MS;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  wake(): void {
    this.naps.wake();
  }

  /** Stops after the export in hand. */
  async close(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let job: Job | undefined;
      try {
        job = await this.claim();
        if (job) await this.process(job);
      } catch (err) {
        this.o.logger.warn(
          { err: (err as Error).message, exportId: job?.id },
          'account export failed; retried',
        );
        // handed back after a pause, so that an outage is not a busy loop
        if (job)
          await this.o.pg
            .query(
              `UPDATE account_exports SET lease_until = now() + interval '5 seconds'
               WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
              [job.id, this.owner],
            )
            .catch(() => {});
        job = undefined;
      }
      if (job || this.stopping) continue;
      await this.expire().catch((err: Error) =>
        this.o.logger.warn({ err: err.message }, 'expired account exports not removed; tried again later'),
      );
      await this.naps.sleep(this.pollMs);
    }
  }

  private async claim(): Promise<Job | undefined> {
    const r = await this.o.pg.query<Job>(
      `UPDATE account_exports SET status = 'running', lease_owner = $1,
         lease_until = now() + $2 * interval '1 millisecond', attempts = attempts + 1
       WHERE id = (SELECT id FROM account_exports
                   WHERE queue = $3 AND (status = 'queued' OR (status = 'running' AND lease_until < now()))
                   ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id, user_id, object_key, attempts`,
      [this.owner, this.leaseMs, this.o.queue],
    );
    return r.rows[0];
  }

  /** Finished exports past their time: the zip first, then the row that names it. */
  private async expire(): Promise<void> {
    const { rows } = await this.o.pg.query<{ id: string; object_key: string }>(
      `SELECT id, object_key FROM account_exports
       WHERE queue = $1 AND status IN ('done', 'failed') AND finished_at < now() - $2 * interval '1 millisecond'
       ORDER BY finished_at LIMIT 100`,
      [this.o.queue, this.ttlMs],
    );
    for (const r of rows) {
      await this.o.store.remove(r.object_key);
      await this.o.pg.query('DELETE FROM account_exports WHERE id = $1', [r.id]);
    }
  }

  private async finish(job: Job, status: 'done' | 'failed', fields: { bytes?: number; reason?: string }) {
    await this.o.pg.query(
      `UPDATE account_exports SET status = $3, byte_size = $4, reason = $5, finished_at = now(),
         lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND lease_owner = $2`,
      [job.id, this.owner, status, fields.bytes ?? null, fields.reason ?? null],
    );
  }

  private async process(job: Job): Promise<void> {
    if (job.attempts > this.maxAttempts) {
      await this.finish(job, 'failed', { reason: 'attempts_exhausted' });
      return;
    }
    const renew = setInterval(() => {
      this.o.pg
        .query(
          `UPDATE account_exports SET lease_until = now() + $3 * interval '1 millisecond'
           WHERE id = $1 AND lease_owner = $2`,
          [job.id, this.owner, this.leaseMs],
        )
        .catch(() => {});
    }, this.leaseMs / 3);
    const dir = await mkdtemp(join(tmpdir(), 'fitstream-export-'));
    try {
      const file = join(dir, 'export.zip');
      const zip = await this.o.zipOf(job.user_id, job.id);
      // an entry that fails after the first byte is emitted on the zip, not on its stream
      const failed = new Promise<never>((_, reject) => zip.once('error', reject));
      failed.catch(() => (zip.outputStream as Readable).destroy());
      await Promise.race([pipeline(zip.outputStream, createWriteStream(file)), failed]);
      const { size } = await stat(file);
      await this.o.store.putFile(job.object_key, file, size);
      await this.finish(job, 'done', { bytes: size });
      this.o.logger.info({ exportId: job.id, bytes: size }, 'account export stored');
    } finally {
      clearInterval(renew);
      await rm(dir, { recursive: true, force: true });
    }
  }
}
