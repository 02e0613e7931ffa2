// The one-pass check of an Avro telemetry payload: the gateway's fast path for canonical Avro (one block
// per array, shortest varints, no strength sets). It reads the bytes once, with the rules of
// parseDeviceTelemetry (payload.ts), and builds no objects; a DeviceTelemetry body that passes is byte for
// byte the middle of its TelemetryBatch record (telemetry-record.ts), so the record copies it. Anything it
// does not accept goes to parseDeviceTelemetry, so a refusal always comes with its first reason.

import { FIELD_RANGES, type PayloadContext } from './payload.js';
import { isSport } from './vocabulary.js';

let ip = 0;
/** the payload being read, as a DataView (float reads compile to a load) */
let inView: DataView = new DataView(new ArrayBuffer(0));

/** An unsigned varint in its shortest form, at most 8 bytes; NaN when truncated, longer or not shortest. */
function readVarint(b: Buffer): number {
  let x = b[ip++];
  if (x === undefined) return Number.NaN;
  if (x < 128) return x;
  let n = x & 127;
  let mul = 128;
  for (let i = 1; i < 8; i++) {
    x = b[ip++];
    if (x === undefined) return Number.NaN;
    n += (x & 127) * mul;
    if (x < 128) return x === 0 ? Number.NaN : n;
    mul *= 128;
  }
  return Number.NaN;
}

/** A non-negative Avro long/int (zig-zag even) below 2^52, else -1 (larger ones take the general path). */
function readNat(b: Buffer): number {
  const z = readVarint(b);
  return z % 2 === 0 && z <= Number.MAX_SAFE_INTEGER ? z / 2 : -1; // NaN % 2 is NaN: -1
}

/** A union ["null", T] branch: 0 null, 1 value, -1 anything else. */
function readBranch(b: Buffer): number {
  const x = b[ip++];
  return x === 0 ? 0 : x === 2 ? 1 : -1;
}

/** Bytes allowed in a session id (SESSION_ID_PATTERN). */
const SESSION_ID_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-')
  SESSION_ID_BYTE[c.charCodeAt(0)] = 1;

function inRange(v: number, range: readonly [number, number]): boolean {
  return v >= range[0] && v <= range[1];
}

/** An optional float field within `range`: false when it is out of range or not canonical. */
function okOptFloat(b: Buffer, range: readonly [number, number]): boolean {
  const br = readBranch(b);
  if (br === 0) return true;
  if (br < 0 || ip + 4 > b.length) return false;
  const v = inView.getFloat32(ip, true);
  ip += 4;
  return inRange(v, range);
}
function okOptDouble(b: Buffer, range: readonly [number, number]): boolean {
  const br = readBranch(b);
  if (br === 0) return true;
  if (br < 0 || ip + 8 > b.length) return false;
  const v = inView.getFloat64(ip, true);
  ip += 8;
  return inRange(v, range);
}
function okOptInt(b: Buffer, range: readonly [number, number]): boolean {
  const br = readBranch(b);
  if (br === 0) return true;
  return br > 0 && inRange(readNat(b), range);
}

export interface CanonicalAvroTelemetry {
  sessionId: string;
  /** samples in the payload */
  samples: number;
}

/**
 * A canonical Avro DeviceTelemetry payload without strength sets that passes every check of
 * parseDeviceTelemetry: its session id and sample count. Null otherwise: then parseDeviceTelemetry
 * decides (it refuses, or accepts a form this pass does not take).
 */
export function checkCanonicalAvroTelemetry(b: Buffer, ctx: PayloadContext): CanonicalAvroTelemetry | null {
  const limits = ctx.limits;
  if (b.length > limits.maxPayloadBytes) return null;
  ip = 0;
  inView = new DataView(b.buffer, b.byteOffset, b.length);
  // sessionId
  const idLen = readNat(b);
  if (!(idLen >= 1 && idLen <= 128) || ip + idLen > b.length) return null;
  const idStart = ip;
  for (; ip < idStart + idLen; ip++) if (SESSION_ID_BYTE[b[ip]!] !== 1) return null;
  // sport (ASCII, one of SPORTS)
  const sportLen = readNat(b);
  if (!(sportLen >= 1 && sportLen <= 16) || ip + sportLen > b.length) return null;
  const sport = b.toString('latin1', ip, ip + sportLen);
  ip += sportLen;
  if (!isSport(sport)) return null;
  // samples: one block of 1..maxSamplesPerBatch items, then the end marker
  const n = readNat(b);
  if (!(n >= 1 && n <= limits.maxSamplesPerBatch)) return null;
  const maxTs = ctx.nowMs + limits.maxFutureMs;
  const minTs = ctx.nowMs - limits.maxAgeMs;
  for (let i = 0; i < n; i++) {
    const ts = readNat(b);
    if (!(ts >= 0 && ts >= minTs && ts <= maxTs)) return null;
    const seqBranch = readBranch(b);
    if (seqBranch < 0 || (seqBranch === 1 && readNat(b) < 0)) return null;
    const latBranch = readBranch(b);
    if (latBranch < 0 || ip + latBranch * 8 > b.length) return null;
    const lat = latBranch === 1 ? inView.getFloat64(ip, true) : 0;
    ip += latBranch * 8;
    if (readBranch(b) !== latBranch || ip + latBranch * 8 > b.length) return null;
    if (latBranch === 1) {
      const lon = inView.getFloat64(ip, true);
      ip += 8;
      if (!inRange(lat, FIELD_RANGES.lat) || !inRange(lon, FIELD_RANGES.lon) || (lat === 0 && lon === 0))
        return null;
    }
    if (
      !okOptFloat(b, FIELD_RANGES.alt) ||
      !okOptFloat(b, FIELD_RANGES.acc) ||
      !okOptFloat(b, FIELD_RANGES.speed) ||
      !okOptDouble(b, FIELD_RANGES.dist) ||
      !okOptInt(b, FIELD_RANGES.hr) ||
      !okOptInt(b, FIELD_RANGES.cadence) ||
      !okOptInt(b, FIELD_RANGES.power)
    )
      return null;
    const lap = b[ip++];
    if (lap !== 0 && lap !== 1) return null;
  }
  // end of samples, empty sets, nothing after
  if (b[ip] !== 0 || b[ip + 1] !== 0 || ip + 2 !== b.length) return null;
  return { sessionId: b.toString('latin1', idStart, idStart + idLen), samples: n };
}
