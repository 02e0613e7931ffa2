import FitParser, { getFitGarminProductName } from 'fit-file-parser';
import type { Sport } from '../../schemas/types.js';
import { checkSize, mapSport, markLapEnds, PointBudget, resolveLimits, SampleBuilder } from './common.js';
import { ImportError, type ImportErrorCode } from './errors.js';
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
  records: Msg[];
  sessions: Msg[];
  laps: Msg[];
  events: Msg[];
  fileIds: Msg[];
}

/**
 * Garmin FIT (binary) to Samples, decoded by the fit-file-parser library (MIT) with header and
 * file CRCs checked. Chained FIT files (several FIT files back to back, as some devices write for
 * multisport or HRM-stored data) are decoded chunk by chunk and merged.
 *
 * One activity per session message (a triathlon file has five: swim, T1, bike, T2, run); a record
 * belongs to the last session that started at or before it. Record fields: position, enhanced
 * altitude (else altitude), enhanced speed (else speed), distance (the device's cumulative
 * distance, counted from the start of the session), heart rate, cadence (+ fractional cadence;
 * doubled for foot sports, where FIT counts one foot), power. Timer stop/start events become pause/resume events; lap messages close laps.
 * The session message is the device's recorded summary. Pure: bytes in, records out.
 */
export function parseFit(bytes: Uint8Array, opts: { limits?: Partial<ImportLimits> } = {}): ImportResult {
  const limits = resolveLimits(opts.limits);
  checkSize(bytes, limits);
  if (bytes.byteLength > limits.maxFitBytes) {
    throw new ImportError(
      'file_too_large',
      `the FIT file has ${bytes.byteLength} bytes, more than the FIT limit of ${limits.maxFitBytes}`,
    );
  }
  const d = decodeChained(bytes);
  const budget = new PointBudget(limits.maxPoints);

  const sessions = d.sessions
    .map((s) => ({ s, start: sessionStart(s) }))
    .sort((a, b) => a.start - b.start)
    .map((x) => x.s);
  const groups: Msg[][] = sessions.length > 0 ? sessions.map(() => []) : [[]];
  const starts = sessions.map(sessionStart);
  const sessionOf = (ts: number): number => {
    let k = 0;
    for (let i = 1; i < starts.length; i++) if (starts[i]! <= ts) k = i;
    return k;
  };
  for (const r of d.records) groups[sessionOf(time(r.timestamp))]!.push(r);

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
  // A Sample's `dist` counts from the start of its own session. The record distance counter of a
  // multisport file runs on across its sessions on some devices (Forerunner 920XT), so a session is
  // rebased on where the previous one ended; others restart it at each session (fenix 2), and a
  // counter that starts below the previous session's end is taken as it is.
  let distEnd = 0;
  groups.forEach((records, k) => {
    let first: number | null = null;
    for (const r of records) {
      first = n(r.distance);
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
      const cad = n(r.cadence);
      const dist = n(r.distance);
      if (dist !== null && (sessionEnd === null || dist > sessionEnd)) sessionEnd = dist;
      b.add({
        ts: time(r.timestamp),
        lat: n(r.position_lat),
        lon: n(r.position_long),
        alt: n(r.enhanced_altitude) ?? n(r.altitude),
        speed: n(r.enhanced_speed) ?? n(r.speed),
        // the device's own estimate of the fix's error (Wahoo ELEMNT writes it; Garmin files here do not)
        acc: n(r.gps_accuracy),
        dist: dist === null ? null : Math.max(0, dist - distBase),
        hr: n(r.heart_rate),
        cadence: cad === null ? null : (cad + (n(r.fractional_cadence) ?? 0)) * footScale,
        power: n(r.power),
      });
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
function decodeChained(bytes: Uint8Array): Decoded {
  const out: Decoded = { records: [], sessions: [], laps: [], events: [], fileIds: [] };
  let off = 0;
  let chunk = 0;
  while (off < bytes.length) {
    const rest = bytes.subarray(off);
    if (chunk > 0 && rest.every((x) => x === 0)) break; // zero padding after the last file
    const end = checkHeader(rest, chunk);
    const parsed = decodeOne(rest.subarray(0, end), chunk);
    out.records.push(...list(parsed.records));
    out.sessions.push(...list(parsed.sessions));
    out.laps.push(...list(parsed.laps));
    out.events.push(...list(parsed.events));
    out.fileIds.push(...list(parsed.file_ids));
    off += end;
    chunk++;
  }
  return out;
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

function n(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
