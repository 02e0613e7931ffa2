// One file of an import, from its stored bytes to the Kafka record values of its activities: unpack (inflate,
// gunzip, both bounded), hash, parse, plan (imports.ts), and encode the records as the telemetry producer
// would. No I/O and no state, so it runs as well in a worker thread (import-prepare-worker.ts, through
// ImportParser below) as here: the import runner parses there, and the API's event loop keeps serving.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { ImportError, parseActivityFile } from '../../pipelines/import/index.js';
import type { Sport } from '../../schemas/vocabulary.js';
import {
  contentHash,
  deviceTotals,
  ImportFileError,
  type ImportFileReason,
  type ImportLimitsApi,
  type PlannedActivity,
  planImportedActivity,
  type StoredFile,
  unpackSync,
} from './imports.js';
import { encodeUploadRecord } from './uploads.js';

export interface PrepareInput {
  stored: StoredFile;
  userId: string;
  defaultSport: Exclude<Sport, 'strength'>;
  receivedAt: number;
  limits: ImportLimitsApi;
  /** the registry's ids of the records' schemas (TelemetryProducer.schemaIds) */
  schemaIds: { TelemetryBatch: number; SessionControl: number };
}

/** An activity of the file, planned, its records encoded (Confluent wire format), in send order. */
export type PreparedActivity = Omit<PlannedActivity, 'records'> & {
  totals: Record<string, unknown> | null;
  values: Uint8Array[];
};

export type PrepareOutput =
  | { ok: true; format: string; sha256: string; activities: PreparedActivity[] }
  | {
      ok: false;
      format: string | null;
      sha256: string | null;
      reason: ImportFileReason;
      detail: string;
    };

/** The file's activities, or why the file is refused; a failure that is not about the file throws. */
export function prepareFile(input: PrepareInput): PrepareOutput {
  let format: string | null = null;
  let sha256: string | null = null;
  try {
    const bytes = unpackSync(input.stored, input.limits);
    sha256 = contentHash(bytes);
    const parsed = parseActivityFile(bytes);
    format = parsed.format;
    const activities = parsed.activities.map((a, i): PreparedActivity => {
      const { records, ...plan } = planImportedActivity(
        input.userId,
        sha256!,
        i,
        a,
        input.defaultSport,
        input.receivedAt,
      );
      return {
        ...plan,
        totals: deviceTotals(a, parsed.creator),
        values: records.map((r) => encodeUploadRecord(input.schemaIds, r)),
      };
    });
    return { ok: true, format: parsed.format, sha256, activities };
  } catch (err) {
    if (err instanceof ImportFileError || err instanceof ImportError)
      return { ok: false, format, sha256, reason: err.code as ImportFileReason, detail: err.message };
    throw err;
  }
}

/**
 * Copies every record value of the output into one ArrayBuffer (views into it replace them), so that the
 * output crosses threads as one transfer, not a copy per record.
 */
export function packValues(out: PrepareOutput): ArrayBuffer {
  if (!out.ok) return new ArrayBuffer(0);
  let total = 0;
  for (const a of out.activities) for (const v of a.values) total += v.length;
  const buffer = new ArrayBuffer(total);
  const all = new Uint8Array(buffer);
  let at = 0;
  for (const a of out.activities)
    a.values = a.values.map((v) => {
      all.set(v, at);
      at += v.length;
      return new Uint8Array(buffer, at - v.length, v.length);
    });
  return buffer;
}

/**
 * Runs prepareFile in worker threads (piscina), `threads` at most, started on demand and ended after a
 * minute idle; threads 0 runs it on the calling thread. The stored bytes are copied once into a buffer of
 * their own and moved to the worker; the values come back moved in one buffer (packValues).
 */
export class ImportParser {
  private readonly pool: Piscina | null;

  constructor(readonly threads: number) {
    const ts = import.meta.url.endsWith('.ts');
    this.pool =
      threads > 0
        ? new Piscina({
            filename: fileURLToPath(new URL(`./import-prepare-worker.${ts ? 'ts' : 'js'}`, import.meta.url)),
            minThreads: 0,
            maxThreads: threads,
            idleTimeout: 60_000,
            // the sources themselves (tests, `node --import tsx`): the worker needs tsx's loader too
            execArgv:
              ts && !process.execArgv.includes('tsx') ? [...process.execArgv, '--import', 'tsx'] : undefined,
          })
        : null;
  }

  async prepare(input: PrepareInput): Promise<PrepareOutput> {
    if (!this.pool) return prepareFile(input);
    const own = new Uint8Array(input.stored.bytes.length);
    own.set(input.stored.bytes);
    const stored = { ...input.stored, bytes: Buffer.from(own.buffer) };
    return (await this.pool.run({ ...input, stored }, { transferList: [own.buffer] })) as PrepareOutput;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
