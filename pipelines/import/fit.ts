import FitParser, { getFitGarminProductName } from 'fit-file-parser';
import type { Sport } from '../../schemas/types.js';
import { checkSize, mapSport, markLapEnds, PointBudget, resolveLimits, SampleBuilder } from './common.js';
import { ImportError, type ImportErrorCode } from './errors.js';
import { COL, COLS, type FitRecordColumns, RECORD_FIELD_NAMES, splitFitRecords } from './fit-records.js';
import type {
  ImportedActivity,
  ImportedEvent,
  ImportLimits,
  ImportResult,
  RecordedLap,
  RecordedSummary,
} from './types.js';

/** Sports where FIT cadence counts one foot (strides/min): Fitstream stores steps per minute. */
const FOOT_CADENCE: ReadonlySet<Sport> = new Set(['running', 'walking', 'hiking']);

type Msg = Record<string, unknown>;

interface Decoded {
  records: FitRecordColumns;
  sessions: Msg[];
  laps: Msg[];
  events: Msg[];
  fileIds: Msg[];
}

/** Which FIT decoder: 'auto' (records by fit-records.ts where it reads the file exactly as the library does), 'library' (fit-file-parser alone). */
export type FitDecoder = 'auto' | 'library';

/**
 * Garmin FIT (binary) to Samples, decoded by the fit-file-parser library (MIT) with header and
 * file CRCs checked; record messages by fit-records.ts, proven to give the library's values (decoder
 * 'library' is the library alone, which the tests compare with). Chained FIT files (several FIT files back
 * to back, as some devices write for multisport or HRM-stored data) are decoded chunk by chunk and merged.
 *
 * One activity per session message (a triathlon file has five: swim, T1, bike, T2, run); a record
 * belongs to the last session that started at or before it. Record fields: position, enhanced
 * altitude (else altitude), enhanced speed (else speed), distance (the device's cumulative
 * distance, counted from the start of the session), heart rate, cadence (+ fractional cadence;
 * doubled for foot sports, where FIT counts one foot), power. Timer stop/start events become pause/resume events; lap messages close laps.
 * The session message is the device's recorded summary. Pure: bytes in, records out.
 */
export function parseFit(
  bytes: Uint8Array,
  opts: { limits?: Partial<ImportLimits>; decoder?: FitDecoder } = {},
): ImportResult {
  const limits = resolveLimits(opts.limits);
  checkSize(bytes, limits);
  if (bytes.byteLength > limits.maxFitBytes) {
    throw new ImportError(
      'file_too_large',
      `the FIT file has ${bytes.byteLength} bytes, more than the FIT limit of ${limits.maxFitBytes}`,
    );
  }
  const d = decodeChained(bytes, opts.decoder ?? 'auto');
  const budget = new PointBudget(limits.maxPoints);

  const sessions = d.sessions
    .map((s) => ({ s, start: sessionStart(s) }))
    .sort((a, b) => a.start - b.start)
    .map((x) => x.s);
  const groups: number[][] = sessions.length > 0 ? sessions.map(() => []) : [[]];
  const starts = sessions.map(sessionStart);
  const sessionOf = (ts: number): number => {
    let k = 0;
    for (let i = 1; i < starts.length; i++) if (starts[i]! <= ts) k = i;
    return k;
  };
  const c = d.records.cols;
  const tsCol = c[COL.ts]!;
  if (starts.length <= 1) for (let i = 0; i < d.records.length; i++) groups[0]!.push(i);
  else for (let i = 0; i < d.records.length; i++) groups[sessionOf(tsCol[i]!)]!.push(i);

  const events: ImportedEvent[][] = groups.map(() => []);
  for (const e of d.events) {
    if (e.event !== 'timer') continue;
    const ts = time(e.timestamp);
    if (!Number.isFinite(ts)) continue;
    const kind =
      e.event_type === 'start' ? 'resume' : String(e.event_type).startsWith('stop') ? 'pause' : null;
    if (kind) events[sessionOf(ts)]!.push({ kind, ts });
  }
  const laps: Msg[][] = groups.map(() => []);
  for (const l of d.laps) laps[sessionOf(time(l.start_time ?? l.timestamp))]!.push(l);

  const activities: ImportedActivity[] = [];
  let points = 0;
  const lat = c[COL.lat]!;
  const lon = c[COL.lon]!;
  const alt = c[COL.alt]!;
  const ealt = c[COL.ealt]!;
  const speed = c[COL.speed]!;
  const espeed = c[COL.espeed]!;
  const acc = c[COL.acc]!;
  const distCol = c[COL.dist]!;
  const hr = c[COL.hr]!;
  const cadence = c[COL.cadence]!;
  const fcadence = c[COL.fcadence]!;
  const power = c[COL.power]!;
  // A Sample's `dist` counts from the start of its own session. The record distance counter of a
  // multisport file runs on across its sessions on some devices (Forerunner 920XT), so a session is
  // rebased on where the previous one ended; others restart it at each session (fenix 2), and a
  // counter that starts below the previous session's end is taken as it is.
  let distEnd = 0;
  groups.forEach((records, k) => {
    let first: number | null = null;
    for (const r of records) {
      first = nn(distCol[r]!);
      if (first !== null) break;
    }
    const distBase = first !== null && first + 1 < distEnd ? 0 : distEnd;
    let sessionEnd: number | null = null;
    const s = sessions[k];
    const fileSport = s ? str(s.sport) : null;
    const sport = s ? (mapSport(str(s.sport)) ?? mapSport(str(s.sub_sport))) : null;
    const footScale = sport !== null && FOOT_CADENCE.has(sport) ? 2 : 1;
    const b = new SampleBuilder(budget);
    for (const r of records) {
      points++;
      const cad = nn(cadence[r]!);
      const dist = nn(distCol[r]!);
      if (dist !== null && (sessionEnd === null || dist > sessionEnd)) sessionEnd = dist;
      b.addPoint(
        tsCol[r]!,
        nn(lat[r]!),
        nn(lon[r]!),
        nn(ealt[r]!) ?? nn(alt[r]!),
        nn(espeed[r]!) ?? nn(speed[r]!),
        // the device's own estimate of the fix's error (Wahoo ELEMNT writes it; Garmin files here do not)
        nn(acc[r]!),
        dist === null ? null : Math.max(0, dist - distBase),
        nn(hr[r]!),
        cad === null ? null : (cad + (nn(fcadence[r]!) ?? 0)) * footScale,
        nn(power[r]!),
      );
    }
    if (sessionEnd !== null) distEnd = sessionEnd;
    if (b.samples.length === 0) return;
    const lapMsgs = laps[k]!;
    markLapEnds(
      b.samples,
      lapMsgs.map((l) => time(l.timestamp)).filter((t) => Number.isFinite(t)),
    );
    activities.push({
      format: 'fit',
      sport,
      fileSport,
      name: s ? str(s.sport_profile_name) : null,
      samples: b.samples,
      events: events[k]!.sort((a, b2) => a.ts - b2.ts),
      recorded: s ? summary(s, lapMsgs) : null,
      dropped: b.dropped,
    });
  });
  if (activities.length === 0) {
    throw new ImportError(
      'no_track_points',
      points > 0
        ? `the FIT file has ${points} records, none with a timestamp`
        : 'the FIT file has no record messages',
    );
  }
  return { format: 'fit', creator: creatorOf(d.fileIds[0]), activities };
}

const HEADER_ERRORS: ReadonlyArray<[RegExp, ImportErrorCode]> = [
  [/crc mismatch/i, 'fit_crc_mismatch'],
  [/exceeds input length|crc missing|to small|too small/i, 'truncated_fit'],
  [/header size|'\.fit'/i, 'not_fit'],
];

/** Splits chained FIT files on their headers and decodes each one. */
function decodeChained(bytes: Uint8Array, decoder: FitDecoder): Decoded {
  const out: Decoded = {
    records: { length: 0, cols: [] },
    sessions: [],
    laps: [],
    events: [],
    fileIds: [],
  };
  const parts: FitRecordColumns[] = [];
  let off = 0;
  let chunk = 0;
  while (off < bytes.length) {
    const rest = bytes.subarray(off);
    if (chunk > 0 && rest.every((x) => x === 0)) break; // zero padding after the last file
    const end = checkHeader(rest, chunk);
    const file = rest.subarray(0, end);
    const split = decoder === 'auto' ? splitFitRecords(file) : null;
    let parsed = split ? decodeOrNull(split.rest, chunk) : null;
    if (split && parsed && !recordDevFieldsSafe(split.recordDevFields, list(parsed.field_descriptions)))
      parsed = null;
    if (split && parsed) parts.push(split.records);
    else {
      parsed = decodeOne(file, chunk);
      parts.push(columnsOf(list(parsed.records)));
    }
    out.sessions.push(...list(parsed.sessions));
    out.laps.push(...list(parsed.laps));
    out.events.push(...list(parsed.events));
    out.fileIds.push(...list(parsed.file_ids));
    off += end;
    chunk++;
  }
  out.records = concatColumns(parts);
  return out;
}

/** fit-file-parser's base type names: a developer field of another one makes the library throw. */
const BASE_TYPE_NAMES = new Set([
  'enum',
  'sint8',
  'uint8',
  'string',
  'uint8z',
  'byte',
  'sint16',
  'uint16',
  'sint32',
  'uint32',
  'float32',
  'float64',
  'uint16z',
  'uint32z',
  'sint64',
  'uint64',
  'uint64z',
]);

/**
 * Whether the records' developer fields are ones the library would only skip or add under names parseFit
 * does not read: none is described with a record field's name (the library would overwrite that field with
 * it) or with a base type the library refuses. Any description of the field anywhere in the file counts.
 */
function recordDevFieldsSafe(refs: Array<[number, number]>, descriptions: Msg[]): boolean {
  for (const [index, num] of refs)
    for (const d of descriptions)
      if (d.developer_data_index === index && d.field_definition_number === num) {
        if (typeof d.field_name === 'string' && RECORD_FIELD_NAMES.has(d.field_name)) return false;
        if (typeof d.fit_base_type_id !== 'string' || !BASE_TYPE_NAMES.has(d.fit_base_type_id)) return false;
      }
  return true;
}

/** The library's record objects as columns: each field as parseFit reads it (a finite number, else NaN). */
function columnsOf(records: Msg[]): FitRecordColumns {
  const cols = Array.from({ length: COLS }, () => new Float64Array(records.length));
  const put = (col: number, i: number, v: unknown) => {
    cols[col]![i] = typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
  };
  records.forEach((r, i) => {
    cols[COL.ts]![i] = time(r.timestamp);
    put(COL.lat, i, r.position_lat);
    put(COL.lon, i, r.position_long);
    put(COL.alt, i, r.altitude);
    put(COL.ealt, i, r.enhanced_altitude);
    put(COL.speed, i, r.speed);
    put(COL.espeed, i, r.enhanced_speed);
    put(COL.dist, i, r.distance);
    put(COL.hr, i, r.heart_rate);
    put(COL.cadence, i, r.cadence);
    put(COL.fcadence, i, r.fractional_cadence);
    put(COL.power, i, r.power);
    put(COL.acc, i, r.gps_accuracy);
  });
  return { length: records.length, cols };
}

function concatColumns(parts: FitRecordColumns[]): FitRecordColumns {
  if (parts.length === 1) return parts[0]!;
  const length = parts.reduce((n, p) => n + p.length, 0);
  const cols = Array.from({ length: COLS }, (_, c) => {
    const col = new Float64Array(length);
    let at = 0;
    for (const p of parts) {
      col.set(p.cols[c]!, at);
      at += p.length;
    }
    return col;
  });
  return { length, cols };
}

/** Validates a FIT header at the start of `b`; returns the byte length of that FIT file (with CRC). */
function checkHeader(b: Uint8Array, chunk: number): number {
  const where = chunk === 0 ? 'the file' : `chained FIT file ${chunk + 1}`;
  const hs = b[0]!;
  if (hs !== 12 && hs !== 14)
    throw new ImportError('not_fit', `${where} has no FIT header (header size byte ${hs})`);
  if (b.length < hs) throw new ImportError('truncated_fit', `${where} ends inside its ${hs}-byte FIT header`);
  const sig = String.fromCharCode(b[8]!, b[9]!, b[10]!, b[11]!);
  if (sig !== '.FIT') throw new ImportError('not_fit', `${where} has no '.FIT' signature`);
  const dataSize = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4, true);
  const end = hs + dataSize + 2;
  if (end > b.length) {
    throw new ImportError(
      'truncated_fit',
      `${where} declares ${dataSize} data bytes plus a 2-byte CRC but holds ${b.length - hs} bytes after its header`,
    );
  }
  return end;
}

/** The non-record rest of a split file; null when the library refuses it (the whole file is then decoded by the library, for its error). */
function decodeOrNull(b: Uint8Array, chunk: number): Msg | null {
  try {
    return decodeOne(b, chunk);
  } catch {
    return null;
  }
}

function decodeOne(b: Uint8Array, chunk: number): Msg {
  const where = chunk === 0 ? 'the file' : `chained FIT file ${chunk + 1}`;
  let error: string | undefined;
  let data: unknown;
  try {
    // The library's callback runs synchronously (no I/O); force: false checks both CRCs. It reads
    // from an ArrayBuffer, so the chunk is copied out of a possibly shared buffer.
    const copy = new Uint8Array(b.byteLength);
    copy.set(b);
    new FitParser({ force: false, mode: 'list' }).parse(copy.buffer, (e, d) => {
      error = e;
      data = d;
    });
  } catch (cause) {
    throw new ImportError('fit_decode_failed', `${where} does not decode: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (error !== undefined) {
    const code = HEADER_ERRORS.find(([re]) => re.test(error!))?.[1] ?? 'fit_decode_failed';
    throw new ImportError(code, `${where}: ${error}`);
  }
  if (!data || typeof data !== 'object')
    throw new ImportError('fit_decode_failed', `${where} decoded to nothing`);
  return data as Msg;
}

/** A session's start: start_time, else its end minus its elapsed time; -Infinity when neither is known. */
function sessionStart(s: Msg): number {
  const start = time(s.start_time);
  if (Number.isFinite(start)) return start;
  const end = time(s.timestamp);
  const elapsed = n(s.total_elapsed_time);
  return Number.isFinite(end) && elapsed !== null ? end - elapsed * 1000 : Number.NEGATIVE_INFINITY;
}

function summary(s: Msg, laps: Msg[]): RecordedSummary {
  const start = time(s.start_time);
  return {
    source: 'fit_session',
    startTs: Number.isFinite(start) ? start : null,
    distanceM: n(s.total_distance),
    timerS: n(s.total_timer_time),
    elapsedS: n(s.total_elapsed_time),
    ascentM: n(s.total_ascent),
    descentM: n(s.total_descent),
    avgHr: n(s.avg_heart_rate),
    maxHr: n(s.max_heart_rate),
    calories: n(s.total_calories),
    laps: laps.map(
      (l): RecordedLap => ({
        startTs: time(l.start_time),
        distanceM: n(l.total_distance),
        timerS: n(l.total_timer_time),
        elapsedS: n(l.total_elapsed_time),
        avgHr: n(l.avg_heart_rate),
        maxHr: n(l.max_heart_rate),
        calories: n(l.total_calories),
      }),
    ),
  };
}

function creatorOf(f: Msg | undefined): string | null {
  if (!f) return null;
  const maker = str(f.manufacturer);
  const product = f.garmin_product ?? f.product;
  const productName =
    maker === 'garmin' && (typeof product === 'number' || typeof product === 'string')
      ? getFitGarminProductName(product)
      : null;
  const parts = [maker, productName ?? (product !== undefined ? String(product) : null)].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : null;
}

function list(v: unknown): Msg[] {
  return Array.isArray(v) ? (v as Msg[]) : [];
}

function time(v: unknown): number {
  return v instanceof Date ? v.getTime() : Number.NaN;
}

/** A column value as parseFit reads a field: NaN (left out) is null. */
function nn(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

function n(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
