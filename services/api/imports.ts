// File imports (POST /v1/imports; docs/imports.md): what one uploaded body holds (a GPX, TCX or FIT file,
// gzip'd or not, or a zip of many), opened within bounded memory, and what each parsed activity becomes —
// the records of uploads.ts under an id derived from (caller, file content), so that a retry, a resume or the
// same file imported twice lands on the same activity. No database here: import-runner.ts does the I/O.

import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, inflateRaw, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import {
  DEFAULT_IMPORT_LIMITS,
  type ImportErrorCode,
  type ImportedActivity,
  type ImportFormat,
  sessionControls,
} from '../../pipelines/import/index.js';
import { activityIdFor } from '../../pipelines/index.js';
import type { Sport } from '../../schemas/vocabulary.js';
import { recordedSessionRecords, type SessionMark, type UploadRecord } from './uploads.js';

const gunzipAsync = promisify(gunzip);
const inflateRawAsync = promisify(inflateRaw);

/**
 * Output chunk of zlib's one-shot calls. Their default, 16 KiB, is one thread-pool round trip per 16 KiB of
 * output: over a 500-file export (144 MB unpacked) gunzip took 510-540 ms so, against 204-218 ms with 1 MiB chunks.
 */
const chunkFor = (expected: number) => Math.min(Math.max(expected, 64 * 1024), 1024 * 1024);

/** Limits of one import (docs/imports.md, Limits); every one is refused with its code. */
export const IMPORT_LIMITS = Object.freeze({
  /** the request body, the archive as sent: an export of ten years of .fit.gz files fits */
  maxBodyBytes: 128 * 1024 * 1024,
  /** files in one zip */
  maxEntries: 5_000,
  /** one file once unpacked (from a zip, or gunzipped): the parsers' own byte limit */
  maxFileBytes: DEFAULT_IMPORT_LIMITS.maxBytes,
  /** all files of one zip once unpacked, as their headers declare them (checked before any is read) */
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
});
export type ImportLimitsApi = Readonly<Record<keyof typeof IMPORT_LIMITS, number>>;

/**
 * Why one file of an import did not become an activity, or a note on one that did. The parsers' codes
 * (pipelines/import/errors.ts) plus what only an import meets. Stable: clients branch on them.
 */
export const IMPORT_FILE_REASONS = [
  'empty_file',
  'file_too_large',
  'unknown_format',
  'malformed_xml',
  'xml_entity_refused',
  'not_gpx',
  'not_tcx',
  'not_fit',
  'truncated_fit',
  'fit_crc_mismatch',
  'fit_decode_failed',
  'no_track_points',
  'too_many_points',
  /** a point's time is before the one before it: the file's clock went back */
  'times_go_backwards',
  /** a .gz that does not gunzip, or a zip entry whose data does not inflate or match its CRC */
  'corrupt_compression',
  /** an encrypted zip entry */
  'encrypted_entry',
  /** note on an imported file: the file names a sport Fitstream does not have; imported as the default */
  'sport_defaulted',
] as const satisfies readonly (ImportErrorCode | string)[];
export type ImportFileReason = (typeof IMPORT_FILE_REASONS)[number];

/** Why a whole import failed before any file: the upload itself is unusable. */
export const IMPORT_REASONS = [
  /** a body that starts like a zip but whose directory does not read */
  'archive_corrupt',
  /** more files in the zip than IMPORT_LIMITS.maxEntries */
  'archive_too_many_files',
  /** the zip's files add up (unpacked) to more than IMPORT_LIMITS.maxTotalBytes */
  'archive_too_large',
] as const;
export type ImportReason = (typeof IMPORT_REASONS)[number];

/** A failure of one file (its code is one of IMPORT_FILE_REASONS), or of the whole upload. */
export class ImportFileError extends Error {
  constructor(
    readonly code: ImportFileReason,
    message: string,
  ) {
    super(message);
  }
}
export class ImportArchiveError extends Error {
  constructor(
    readonly code: ImportReason,
    message: string,
  ) {
    super(message);
  }
}

/** One file of an upload, not read yet. */
export interface UploadEntry {
  /** path in the zip, or 'upload' (+ '.gz') for a single file */
  name: string;
  /** the file's bytes, gunzipped when they are gzip; an ImportFileError when they cannot be had */
  read(): Promise<Buffer>;
  /**
   * The file's bytes as the upload stores them (deflated in a zip, maybe gzip), for `unpackSync` in another
   * thread: read() is unpack(stored()). An ImportFileError when they cannot be had (encrypted, too large).
   */
  stored(): Promise<StoredFile>;
}

/** A file as the upload stores it: what unpack / unpackSync turn into its own bytes. */
export interface StoredFile {
  /** for messages: the entry's path, or 'the upload' */
  label: string;
  bytes: Buffer;
  /** a deflated zip entry: the size its directory entry declares (inflating past it is an error); else null */
  deflatedSize: number | null;
}

const isZip = (b: Uint8Array) =>
  b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
const isEmptyZip = (b: Uint8Array) =>
  b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x05 && b[3] === 0x06;
const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

const tooLarge = (err: unknown) =>
  err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';

/** gunzip with an output bound: a gzip bomb stops at maxOutputLength + 1 bytes, never further. */
function gunzipFailure(err: unknown, max: number, name: string): ImportFileError {
  if (tooLarge(err))
    return new ImportFileError('file_too_large', `${name} unpacks to more than ${max} bytes`);
  return new ImportFileError('corrupt_compression', `${name} does not gunzip: ${(err as Error).message}`);
}
const gunzipOptions = (bytes: Buffer, max: number) => ({
  maxOutputLength: max + 1,
  chunkSize: chunkFor(bytes.length * 4),
});
function gunzipChecked(out: Buffer, max: number, name: string): Buffer {
  if (out.length > max) throw gunzipFailure(new RangeError('too large'), max, name);
  return out;
}

/** A deflated zip entry inflated, bounded by (and equal to) the size its directory entry declares. */
const inflateOptions = (declared: number) => ({
  maxOutputLength: declared + 1,
  chunkSize: chunkFor(declared + 1),
});
function inflateFailure(err: unknown, label: string, declared: number): ImportFileError {
  return unpackFailure(
    label,
    tooLarge(err)
      ? `it inflates past the ${declared} bytes its directory entry declares`
      : (err as Error).message,
  );
}
function inflateChecked(out: Buffer, label: string, declared: number): Buffer {
  if (out.length !== declared)
    throw unpackFailure(label, `${out.length} bytes where its directory entry declares ${declared}`);
  return out;
}
const unpackFailure = (label: string, why: string) =>
  new ImportFileError('corrupt_compression', `${label} does not unpack: ${why}`);

/** A stored file's own bytes: inflated when it is a deflated zip entry, then gunzipped when it is gzip. */
export async function unpack(s: StoredFile, limits: ImportLimitsApi = IMPORT_LIMITS): Promise<Buffer> {
  let bytes = s.bytes;
  if (s.deflatedSize !== null) {
    const declared = s.deflatedSize;
    bytes = inflateChecked(
      await inflateRawAsync(bytes, inflateOptions(declared)).catch((err) => {
        throw inflateFailure(err, s.label, declared);
      }),
      s.label,
      declared,
    );
  }
  if (!isGzip(bytes)) return bytes;
  const max = limits.maxFileBytes;
  const out = await gunzipAsync(bytes, gunzipOptions(bytes, max)).catch((err) => {
    throw gunzipFailure(err, max, s.label);
  });
  return gunzipChecked(out, max, s.label);
}

/** unpack() on this thread, with the same bounds and the same errors (for a worker thread: import-prepare.ts). */
export function unpackSync(s: StoredFile, limits: ImportLimitsApi = IMPORT_LIMITS): Buffer {
  let bytes = s.bytes;
  if (s.deflatedSize !== null) {
    let out: Buffer;
    try {
      out = inflateRawSync(bytes, inflateOptions(s.deflatedSize));
    } catch (err) {
      throw inflateFailure(err, s.label, s.deflatedSize);
    }
    bytes = inflateChecked(out, s.label, s.deflatedSize);
  }
  if (!isGzip(bytes)) return bytes;
  const max = limits.maxFileBytes;
  let out: Buffer;
  try {
    out = gunzipSync(bytes, gunzipOptions(bytes, max));
  } catch (err) {
    throw gunzipFailure(err, max, s.label);
  }
  return gunzipChecked(out, max, s.label);
}

/**
 * Rank of a file by its name, for the order the runner works in: FIT first (device totals, every sensor),
 * then TCX, then GPX (docs/imports.md, Duplicates: of two recordings of one workout the first imported is
 * kept, so the better source comes first). Then by name, so the order is the same on every resume.
 */
export function nameRank(name: string): number {
  const n = name.toLowerCase().replace(/\.gz$/, '');
  if (n.endsWith('.fit')) return 0;
  if (n.endsWith('.tcx')) return 1;
  if (n.endsWith('.gpx')) return 2;
  return 3;
}

/** Rank of a parsed format: lower is the better source (FIT > TCX > GPX). */
export const FORMAT_RANK: Readonly<Record<ImportFormat, number>> = { fit: 0, tcx: 1, gpx: 2 };

/**
 * What an upload holds, in the order to import it. A zip is opened from its central directory (yauzl):
 * entry count and declared sizes are checked before any entry is read, each entry is inflated on its own
 * with its size checked (an entry that inflates past its declared size is an error, not a bomb), and
 * gzip inside is bounded by maxOutputLength. So at most one file (≤ maxFileBytes) is unpacked at a time.
 */
export async function openUpload(
  bytes: Buffer,
  limits: ImportLimitsApi = IMPORT_LIMITS,
): Promise<{ kind: 'zip' | 'gzip' | 'file'; entries: UploadEntry[]; close(): void }> {
  if (isZip(bytes) || isEmptyZip(bytes)) return openZip(bytes, limits);
  const single = (name: string, stored: () => Promise<StoredFile>): UploadEntry => ({
    name,
    stored,
    read: async () => unpack(await stored(), limits),
  });
  if (isGzip(bytes))
    return {
      kind: 'gzip',
      entries: [single('upload.gz', async () => ({ label: 'the upload', bytes, deflatedSize: null }))],
      close() {},
    };
  return {
    kind: 'file',
    entries: [
      single('upload', async () => {
        if (bytes.length > limits.maxFileBytes)
          throw new ImportFileError('file_too_large', `the file has more than ${limits.maxFileBytes} bytes`);
        return { label: 'the upload', bytes, deflatedSize: null };
      }),
    ],
    close() {},
  };
}

async function openZip(
  bytes: Buffer,
  limits: ImportLimitsApi,
): Promise<{ kind: 'zip'; entries: UploadEntry[]; close(): void }> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(
      bytes,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false },
      (err, z) => (err || !z ? reject(err) : resolve(z)),
    ),
  ).catch((err: Error) => {
    throw new ImportArchiveError('archive_corrupt', `the zip does not open: ${err.message}`);
  });
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    throw new ImportArchiveError(
      'archive_too_many_files',
      `the zip has ${zip.entryCount} entries, more than ${limits.maxEntries}`,
    );
  }
  const listed: { entry: yauzl.Entry; index: number }[] = [];
  let declared = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        // directories and the metadata that macOS adds hold no activity
        if (!entry.fileName.endsWith('/') && !/(^|\/)__MACOSX\//.test(entry.fileName)) {
          listed.push({ entry, index: listed.length });
          declared += entry.uncompressedSize;
        }
        zip.readEntry();
      });
      zip.on('end', () => resolve());
      zip.on('error', reject);
      zip.readEntry();
    });
  } catch (err) {
    zip.close();
    throw new ImportArchiveError(
      'archive_corrupt',
      `the zip's directory does not read: ${(err as Error).message}`,
    );
  }
  if (declared > limits.maxTotalBytes) {
    zip.close();
    throw new ImportArchiveError(
      'archive_too_large',
      `the zip's files unpack to ${declared} bytes, more than ${limits.maxTotalBytes}`,
    );
  }
  listed.sort(
    (a, b) =>
      nameRank(a.entry.fileName) - nameRank(b.entry.fileName) ||
      (a.entry.fileName < b.entry.fileName ? -1 : a.entry.fileName > b.entry.fileName ? 1 : 0) ||
      a.index - b.index,
  );
  const entries = listed.map(({ entry }): UploadEntry => {
    const stored = async (): Promise<StoredFile> => {
      if (entry.isEncrypted()) throw new ImportFileError('encrypted_entry', `${entry.fileName} is encrypted`);
      if (entry.uncompressedSize > limits.maxFileBytes)
        throw new ImportFileError(
          'file_too_large',
          `${entry.fileName} unpacks to ${entry.uncompressedSize} bytes, more than ${limits.maxFileBytes}`,
        );
      return storedEntry(zip, entry);
    };
    return { name: entry.fileName, stored, read: async () => unpack(await stored(), limits) };
  });
  return { kind: 'zip', entries, close: () => zip.close() };
}

/**
 * An entry's data as the zip stores it, as yauzl finds it (local header checked, bounds checked); unpack
 * inflates it in one call bounded by the declared size (a lying directory is an error, never a bomb).
 * yauzl's own inflate stream works in 16 KiB chunks: over a 500-file export it took 210-265 ms, this 109-137.
 */
async function storedEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<StoredFile> {
  const label = entry.fileName;
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    zip.openReadStream(entry, { decodeFileData: false }, (err, stream) => {
      if (err || !stream) return reject(unpackFailure(label, (err ?? new Error('no stream')).message));
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e: Error) => reject(unpackFailure(label, e.message)));
      stream.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    });
  });
  if (entry.compressionMethod === 8) return { label, bytes, deflatedSize: entry.uncompressedSize };
  if (entry.compressionMethod !== 0)
    throw unpackFailure(
      label,
      `compression method ${entry.compressionMethod} (only stored and deflate are read)`,
    );
  inflateChecked(bytes, label, entry.uncompressedSize);
  return { label, bytes, deflatedSize: null };
}

/** SHA-256 of a file's own bytes (after gunzip): the same recording sent as .fit or .fit.gz hashes the same. */
export const contentHash = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The key of the n-th activity of a file: what identifies it for "the same file twice is one activity". */
export const contentKey = (fileSha256: string, activityIndex: number): string =>
  `import:${fileSha256}:${activityIndex}`;

/** An imported activity's id: activityIdFor(user, 'import', the session of its content key), as for uploads. */
export const importedActivityId = (userId: string, key: string): string =>
  activityIdFor(userId, IMPORT_DEVICE_ID, importSessionId(userId, key));

/** The session id of an imported activity: a digest of (caller, content key), apart from uploads' ids. */
export function importSessionId(userId: string, key: string): string {
  const h = createHash('sha256').update(`${userId}\u0000${key}`, 'utf8').digest('hex');
  return `import-${h.slice(0, 40)}`;
}

/** The import id: a UUIDv5-like digest of (caller, idempotency key), so a retried POST is the same import. */
export function importId(userId: string, idempotencyKey: string): string {
  const h = createHash('sha256').update(`import\u0000${userId}\u0000${idempotencyKey}`, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Sports that one workout may be called by two devices (a watch's run, a phone's walk): compared for overlap. */
const SPORT_FAMILY: Readonly<Record<Sport, string>> = {
  running: 'foot',
  walking: 'foot',
  hiking: 'foot',
  cycling: 'cycling',
  strength: 'strength',
};
export const sportFamily = (s: Sport): string => SPORT_FAMILY[s];
export const compatibleSports = (s: Sport): Sport[] =>
  (Object.keys(SPORT_FAMILY) as Sport[]).filter((x) => SPORT_FAMILY[x] === SPORT_FAMILY[s]);

/**
 * Two recordings are one workout when their sports are of one family and they overlap in time by at least
 * this share of the shorter one (docs/imports.md, Duplicates). One athlete does not do two workouts at once;
 * a watch and a phone started a minute apart still overlap by far more than half.
 */
export const OVERLAP_SHARE = 0.5;

export function overlaps(
  a: { startTs: number; endTs: number },
  b: { startTs: number; endTs: number },
): boolean {
  const shorter = Math.min(a.endTs - a.startTs, b.endTs - b.startTs);
  const common = Math.min(a.endTs, b.endTs) - Math.max(a.startTs, b.startTs);
  if (shorter <= 0) return common >= 0 && Math.max(a.startTs, b.startTs) <= Math.min(a.endTs, b.endTs);
  return common >= OVERLAP_SHARE * shorter;
}

/** An imported activity ready to send: its id, span, sport and records. */
export interface PlannedActivity {
  activityId: string;
  sessionId: string;
  key: string;
  sport: Sport;
  sportDefaulted: boolean;
  startTs: number;
  endTs: number;
  records: UploadRecord[];
  points: number;
}

/** The device id of every import's records: an import comes from no registered device. */
export const IMPORT_DEVICE_ID = 'import';

/**
 * The records of one parsed activity: pauses (FIT timer, TCX track breaks, GPX segments) and laps as
 * controls, samples as they are in the file (seq = file order). A time that goes back is refused: the
 * pipeline would reorder it, but in a finished file it means the device clock jumped.
 */
export function planImportedActivity(
  userId: string,
  fileSha256: string,
  index: number,
  a: ImportedActivity,
  defaultSport: Exclude<Sport, 'strength'>,
  receivedAt: number,
): PlannedActivity {
  const samples = a.samples;
  for (let i = 1; i < samples.length; i++)
    if (samples[i]!.ts < samples[i - 1]!.ts)
      throw new ImportFileError(
        'times_go_backwards',
        `point ${i} at ${new Date(samples[i]!.ts).toISOString()} is before the one before it (${new Date(samples[i - 1]!.ts).toISOString()})`,
      );
  // strength has no track to compute: a file recording one is imported under the default sport
  const sportDefaulted = a.sport === null || a.sport === 'strength';
  const sport: Sport = sportDefaulted ? defaultSport : (a.sport as Sport);
  const key = contentKey(fileSha256, index);
  const sessionId = importSessionId(userId, key);
  const startTs = samples[0]!.ts;
  const endTs = samples.at(-1)!.ts;
  const ids = { deviceId: IMPORT_DEVICE_ID, userId, sessionId, sport, receivedAt };
  const marks: SessionMark[] = sessionControls(a, ids).map((c) => ({
    kind: c.kind as SessionMark['kind'],
    ts: c.ts,
  }));
  return {
    activityId: activityIdFor(userId, IMPORT_DEVICE_ID, sessionId),
    sessionId,
    key,
    sport,
    sportDefaulted,
    startTs,
    endTs,
    points: samples.length,
    records: recordedSessionRecords({ ...ids, source: 'import' }, samples, { startTs, endTs, marks }),
  };
}

/** The device's own totals as the API shows them beside Fitstream's numbers (snake_case, null when absent). */
export function deviceTotals(a: ImportedActivity, creator: string | null): Record<string, unknown> | null {
  const r = a.recorded;
  if (!r) return null;
  return {
    source: r.source,
    creator,
    distance_m: r.distanceM,
    timer_s: r.timerS,
    elapsed_s: r.elapsedS,
    ascent_m: r.ascentM,
    descent_m: r.descentM,
    hr_avg: r.avgHr,
    hr_max: r.maxHr,
    calories: r.calories,
    laps: r.laps.map((l) => ({
      start_ts: l.startTs,
      distance_m: l.distanceM,
      timer_s: l.timerS,
      elapsed_s: l.elapsedS,
      hr_avg: l.avgHr,
      hr_max: l.maxHr,
      calories: l.calories,
    })),
  };
}
