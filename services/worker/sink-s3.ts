import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ArchiveCorruptError, isTransient, SinkRejectedError, SinkUnavailableError } from './errors.js';
import type { FlushBatch, Sink } from './ports.js';
import type { RawRecord } from './records.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * The raw archive: every record exactly as consumed (key and value bytes, offset, broker
 * timestamp), so history can be replayed through the same stages.
 *
 * Object names (documented in docs/analytics.md):
 *   {prefix}/data/{topic}/p={partition:03}/w={window start, UTC, YYYYMMDDTHHmm}/{first:020}-{last:020}.ndjson.gz
 *   {prefix}/manifest/{topic}/p={partition:03}/w={...}/{first:020}-{last:020}.json
 * One data object per partition and time window per flush. Each gzip'd NDJSON line is
 * {"o":"offset","t":timestamp,"k":base64|null,"v":base64|null}. The manifest (written after its data
 * object, so a manifest always points at a complete object) holds the key, offsets, count, time
 * range, byte size and sha256. A crash can make two objects overlap in offsets; readers dedupe by
 * (partition, offset), which `readArchive` does.
 */
export interface ArchiveManifest {
  key: string;
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  count: number;
  minTimestamp: number;
  maxTimestamp: number;
  bytes: number;
  sha256: string;
}

export interface ArchiveOptions {
  bucket: string;
  prefix: string;
  windowS: number;
}

const pad = (n: number | string, w: number): string => String(n).padStart(w, '0');

export function windowLabel(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}`;
}

export function archiveKeys(
  prefix: string,
  topic: string,
  partition: number,
  windowStartMs: number,
  first: string,
  last: string,
): { data: string; manifest: string } {
  const p = prefix.replace(/\/+$/, '');
  const tail = `${topic}/p=${pad(partition, 3)}/w=${windowLabel(windowStartMs)}/${pad(first, 20)}-${pad(last, 20)}`;
  return {
    data: `${p ? `${p}/` : ''}data/${tail}.ndjson.gz`,
    manifest: `${p ? `${p}/` : ''}manifest/${tail}.json`,
  };
}

/**
 * The NDJSON lines, byte for byte what JSON.stringify({o, t, k, v}) gives (offsets are digit
 * strings, timestamps integers, base64 needs no escaping), without an object per record.
 */
export function encodeLines(records: readonly RawRecord[]): Buffer {
  let text = '';
  for (const r of records) {
    if (!/^\d+$/.test(r.offset) || !Number.isSafeInteger(r.timestamp)) {
      // not the shape Kafka gives: let JSON.stringify quote whatever it is
      text += `${JSON.stringify({ o: r.offset, t: r.timestamp, k: b64(r.key), v: b64(r.value) })}\n`;
      continue;
    }
    const k = r.key ? `"${r.key.toString('base64')}"` : 'null';
    const v = r.value ? `"${r.value.toString('base64')}"` : 'null';
    text += `{"o":"${r.offset}","t":${r.timestamp},"k":${k},"v":${v}}\n`;
  }
  return Buffer.from(text);
}

const b64 = (b: Buffer | null): string | null => (b ? b.toString('base64') : null);

/** Kafka offsets as decimal strings (no leading zeros): shorter is smaller, else text order. */
function compareOffsets(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function inOrder(recs: readonly RawRecord[]): boolean {
  for (let i = 1; i < recs.length; i++)
    if (compareOffsets(recs[i - 1]!.offset, recs[i]!.offset) > 0) return false;
  return true;
}

export function decodeLines(topic: string, partition: number, text: string): RawRecord[] {
  const out: RawRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line) as { o: string; t: number; k: string | null; v: string | null };
    out.push({
      topic,
      partition,
      offset: o.o,
      timestamp: o.t,
      key: o.k === null ? null : Buffer.from(o.k, 'base64'),
      value: o.v === null ? null : Buffer.from(o.v, 'base64'),
    });
  }
  return out;
}

export class S3Archive implements Sink {
  readonly name = 's3';

  constructor(
    private readonly s3: S3Client,
    private readonly opts: ArchiveOptions,
  ) {}

  private async run<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (isTransient(err) || status === undefined || status >= 500 || status === 429) {
        throw new SinkUnavailableError(`s3 ${what}`, err);
      }
      throw new SinkRejectedError(`s3 ${what}`, err);
    }
  }

  async writeBatch(batch: FlushBatch): Promise<void> {
    const windowMs = this.opts.windowS * 1000;
    const groups = new Map<string, RawRecord[]>();
    for (const r of batch.raw) {
      const w = Math.floor(r.timestamp / windowMs) * windowMs;
      const g = `${r.topic}\u0000${r.partition}\u0000${w}`;
      const list = groups.get(g);
      if (list) list.push(r);
      else groups.set(g, [r]);
    }
    const jobs = [...groups.entries()].map(([g, recs]) => async () => {
      const [topic, partition, w] = g.split('\u0000') as [string, string, string];
      // usually already in offset order (one partition's fetches); compare without BigInt per call
      if (!inOrder(recs)) recs.sort((a, b) => compareOffsets(a.offset, b.offset));
      const first = recs[0]!;
      const last = recs[recs.length - 1]!;
      const keys = archiveKeys(
        this.opts.prefix,
        topic,
        Number(partition),
        Number(w),
        first.offset,
        last.offset,
      );
      const body = await gzipAsync(encodeLines(recs), { level: 1 });
      const manifest: ArchiveManifest = {
        key: keys.data,
        topic,
        partition: Number(partition),
        firstOffset: first.offset,
        lastOffset: last.offset,
        count: recs.length,
        minTimestamp: Math.min(...recs.map((r) => r.timestamp)),
        maxTimestamp: Math.max(...recs.map((r) => r.timestamp)),
        bytes: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      };
      await this.run('put data', () =>
        this.s3.send(
          new PutObjectCommand({
            Bucket: this.opts.bucket,
            Key: keys.data,
            Body: body,
            ContentType: 'application/x-ndjson',
            ContentEncoding: 'gzip',
          }),
        ),
      );
      await this.run('put manifest', () =>
        this.s3.send(
          new PutObjectCommand({
            Bucket: this.opts.bucket,
            Key: keys.manifest,
            Body: JSON.stringify(manifest),
            ContentType: 'application/json',
          }),
        ),
      );
    });
    await runLimited(jobs, 8);
  }

  /** Every manifest under the prefix (optionally one topic), in key order. */
  async listManifests(topic?: string): Promise<ArchiveManifest[]> {
    const p = this.opts.prefix.replace(/\/+$/, '');
    const prefix = `${p ? `${p}/` : ''}manifest/${topic ? `${topic}/` : ''}`;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.run('list', () =>
        this.s3.send(
          new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    const out: ArchiveManifest[] = [];
    for (const key of keys) {
      const text = await this.getText(key);
      out.push(JSON.parse(text) as ArchiveManifest);
    }
    return out;
  }

  private async getBytes(key: string): Promise<Buffer> {
    const r = await this.run('get', () =>
      this.s3.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: key })),
    );
    const bytes = await r.Body?.transformToByteArray();
    if (!bytes) throw new ArchiveCorruptError(`empty object ${key}`);
    return Buffer.from(bytes);
  }

  private async getText(key: string): Promise<string> {
    return (await this.getBytes(key)).toString('utf8');
  }

  /** The records of one archived object, checked against its manifest. */
  async readObject(m: ArchiveManifest): Promise<RawRecord[]> {
    const body = await this.getBytes(m.key);
    const sha = createHash('sha256').update(body).digest('hex');
    if (sha !== m.sha256) throw new ArchiveCorruptError(`${m.key}: sha256 mismatch`);
    const text = (await gunzipAsync(body)).toString('utf8');
    const recs = decodeLines(m.topic, m.partition, text);
    if (recs.length !== m.count)
      throw new ArchiveCorruptError(`${m.key}: ${recs.length} records, manifest says ${m.count}`);
    return recs;
  }

  async close(): Promise<void> {
    this.s3.destroy();
  }
}

/** Runs async jobs with at most `limit` in flight; rejects with the first error after all settle. */
export async function runLimited(jobs: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let firstErr: unknown;
  const lane = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      try {
        await job();
      } catch (err) {
        firstErr ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, lane));
  if (firstErr !== undefined) throw firstErr;
}
