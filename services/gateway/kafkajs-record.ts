// A faster encoder for kafkajs' Record (v0, the record of a v2 record batch), swapped into kafkajs' module
// cache before its produce request module loads.
//
// Why: kafkajs encodes each record with a fresh Encoder (a zero-filled 512-byte buffer that grows to the next
// power of two and is copied when a value is larger), sizes and writes the timestamp delta through 64-bit
// Long objects, and spreads the message into a new object first. In the gateway's profile that was ~8 % of
// its CPU (one record per MQTT message). This writes the same bytes into one exactly sized buffer.
//
// Scope: records without headers, with a small non-negative offset and timestamp delta, key and value null,
// a string or a Buffer: what the gateway sends. Anything else goes to kafkajs' own encoder. The bytes are
// kafkajs' own (kafkajs-record.test.ts compares them), and the broker checks them: a wrong byte fails the
// batch's CRC and the produce is refused. Tied to kafkajs 2.2.x (the last release): on another version, or
// when the module is not where 2.2 keeps it, nothing is replaced.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, unknown>;
}
interface EncoderLike {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
}
type RecordEncoder = (args: RecordArgs) => EncoderLike;

const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';
export const PRODUCE_V3_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const SMALL = 0x20000000; // 2^29: zig-zag fits a 32-bit varint

/** Bytes of the zig-zag varint of a small non-negative int, or of -1 (null length). */
export function varintSize(n: number): number {
  const z = n >= 0 ? n * 2 : 1; // only -1 is negative here
  return z < 0x80 ? 1 : z < 0x4000 ? 2 : z < 0x200000 ? 3 : z < 0x10000000 ? 4 : 5;
}

export function putVarint(buf: Buffer, at: number, n: number): number {
  let z = n >= 0 ? n * 2 : 1;
  while (z > 127) {
    buf[at++] = (z & 127) | 128;
    z >>>= 7;
  }
  buf[at++] = z;
  return at;
}

export function byteLength(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return -1;
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

export function putBytes(
  buf: Buffer,
  at: number,
  v: Buffer | string | null | undefined,
  len: number,
): number {
  at = putVarint(buf, at, len);
  if (len <= 0) return at;
  if (typeof v === 'string') buf.write(v, at, len, 'utf8');
  else (v as Buffer).copy(buf, at);
  return at + len;
}

/** The fast encoder, delegating to `original` outside its scope. Exported for the test. */
export function makeRecordEncoder(original: RecordEncoder, encoderPrototype: object): RecordEncoder {
  return function fastRecord(args) {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = args;
    if (
      !(offsetDelta >= 0 && offsetDelta < SMALL && Number.isInteger(offsetDelta)) ||
      !(timestampDelta >= 0 && timestampDelta < SMALL && Number.isInteger(timestampDelta)) ||
      (headers !== undefined && Object.keys(headers).length > 0) ||
      !(key === null || key === undefined || typeof key === 'string' || Buffer.isBuffer(key)) ||
      !(value === null || value === undefined || typeof value === 'string' || Buffer.isBuffer(value))
    ) {
      return original(args);
    }
    const keyLen = byteLength(key);
    const valueLen = byteLength(value);
    const body =
      1 + // attributes
      varintSize(timestampDelta) +
      varintSize(offsetDelta) +
      varintSize(keyLen) +
      Math.max(0, keyLen) +
      varintSize(valueLen) +
      Math.max(0, valueLen) +
      1; // no headers: varint 0
    const buf = Buffer.allocUnsafe(varintSize(body) + body);
    let at = putVarint(buf, 0, body);
    buf[at++] = 0; // attributes
    at = putVarint(buf, at, timestampDelta);
    at = putVarint(buf, at, offsetDelta);
    at = putBytes(buf, at, key, keyLen);
    at = putBytes(buf, at, value, valueLen);
    buf[at++] = 0; // headers: none
    // an Encoder without its constructor's zero-filled 512-byte buffer; RecordBatch reads `buf` and `buffer`
    const enc = Object.create(encoderPrototype) as EncoderLike;
    enc.buf = buf;
    enc.offset = at;
    return enc;
  };
}

let installed: boolean | null = null;

/**
 * Replaces kafkajs' Record encoder for every producer of this process that sends after this call. Returns
 * whether the fast encoder is in place (false: other kafkajs version, or the produce request module was
 * already loaded with the original).
 */
export function installFastRecordEncoder(): boolean {
  if (installed !== null) return installed;
  installed = false;
  try {
    const version = (require('kafkajs/package.json') as { version: string }).version;
    if (!version.startsWith('2.2.')) return false;
    const recordPath = require.resolve(RECORD_MODULE);
    const producePath = require.resolve(PRODUCE_V3_MODULE);
    if (require.cache[producePath]) return false; // it holds the original already
    const original = require(recordPath) as RecordEncoder;
    const Encoder = require(ENCODER_MODULE) as { prototype: object };
    const entry = require.cache[recordPath];
    if (typeof original !== 'function' || !entry) return false;
    entry.exports = makeRecordEncoder(original, Encoder.prototype);
    installed = true;
  } catch {
    installed = false;
  }
  return installed;
}
