import type { Logger } from '../common/logger.js';
import { ReplayFailedError, WorkerError } from './errors.js';
import type { Source, SourceHandler } from './ports.js';
import type { RawRecord } from './records.js';
import type { ArchiveManifest, S3Archive } from './sink-s3.js';

export interface ArchiveSourceOptions {
  /** only the objects of this topic */
  topic?: string;
  /** inclusive lower bound on the record's Kafka timestamp, ms */
  from?: number;
  /** exclusive upper bound, ms */
  to?: number;
  /** weight (samples) per job, as WORKER_BATCH_ROWS for the Kafka source */
  batchRows: number;
  /** after each archive object is read and its records handed on */
  onObject?: (done: number, of: number) => void;
}

function overlaps(m: ArchiveManifest, from?: number, to?: number): boolean {
  return (from === undefined || m.maxTimestamp >= from) && (to === undefined || m.minTimestamp < to);
}

function compareOffsets(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The S3 raw archive (sink-s3.ts) as a Source: every archived record in the time range, in partition
 * and offset order, deduplicated by (topic, partition, offset) since overlapping objects can exist after
 * a crash, handed to the same SourceHandler (the Worker) as the Kafka source, in jobs of `batchRows`
 * weight: write, then complete, one job at a time. There is nothing to commit: a job is done when
 * complete() resolved, and `finished` resolves after the last one (rejects on the first failure).
 * It names no partitions (assigned is not called): the handler recovers nothing on its behalf.
 */
export class ArchiveSource<J = unknown> implements Source {
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private run: Promise<void> | null = null;
  /** how many archive objects the range covers (known once start() resolved) */
  objects = 0;

  constructor(
    private readonly archive: S3Archive,
    private readonly opts: ArchiveSourceOptions,
    private readonly handler: SourceHandler<J>,
    private readonly logger: Logger,
  ) {}

  /** Lists the objects of the range and starts reading them (resolves once listed). */
  async start(): Promise<void> {
    const manifests = (await this.archive.listManifests(this.opts.topic)).filter((m) =>
      overlaps(m, this.opts.from, this.opts.to),
    );
    manifests.sort((a, b) => a.partition - b.partition || compareOffsets(a.firstOffset, b.firstOffset));
    this.objects = manifests.length;
    this.run = this.read(manifests);
    this.run.catch(() => {}); // observed through `finished`
  }

  /** Resolves when every record of the range went through write and complete. */
  get finished(): Promise<void> {
    if (!this.run) return Promise.reject(new Error('ArchiveSource not started'));
    return this.run;
  }

  private async read(manifests: readonly ArchiveManifest[]): Promise<void> {
    const { from, to } = this.opts;
    const seen = new Set<string>();
    let weight = 0;
    let pending = 0;
    let done = 0;
    for (const m of manifests) {
      if (this.stopped) break;
      for (const raw of await this.archive.readObject(m)) {
        const id = `${raw.topic}/${raw.partition}@${raw.offset}`;
        if (seen.has(id)) continue;
        seen.add(id);
        if ((from !== undefined && raw.timestamp < from) || (to !== undefined && raw.timestamp >= to))
          continue;
        weight += Math.max(1, await this.ingest(raw, id));
        pending++;
        if (weight >= this.opts.batchRows) {
          weight = 0;
          pending = 0;
          await this.job();
        }
      }
      this.opts.onObject?.(++done, manifests.length);
    }
    if (pending > 0) await this.job();
  }

  private async ingest(raw: RawRecord, id: string): Promise<number> {
    try {
      return await this.handler.ingest(raw);
    } catch (err) {
      if (err instanceof WorkerError) throw err;
      throw new ReplayFailedError(`decoding ${id}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** One job through both stages, between any exclusive() calls. */
  private job(): Promise<void> {
    return this.exclusive(async () => {
      const job = this.handler.take();
      const beat = async () => {};
      await this.handler.write(job, beat);
      await this.handler.complete(job, beat);
    });
  }

  exclusive<T>(f: () => Promise<T>): Promise<T> {
    const next = this.chain.then(f);
    this.chain = next.catch(() => {});
    return next;
  }

  /** Stops after the current object; resolves when reading ended (what was read went through). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.run?.catch((err) => this.logger.error({ err }, 'archive source failed'));
  }
}
