// A faster encoder for kafkajs' Produce request body (v3, which kafkajs' v4–v7 reuse), swapped into kafkajs'
// module cache before any producer sends.
//
// Why: kafkajs builds a Produce request in layers — a copy of every message spread into a new object, a
// record Encoder each, a RecordBatch Encoder that grows by doubling and copies every record again, a CRC
// Encoder copy, then partition, topic and request Encoders that each copy the whole batch once more. In
// the gateway's profile the request body was ~12 % of its CPU (one record per MQTT message). This sizes the
// request first and writes every byte once into one buffer.
//
// Scope: uncompressed batches of messages without headers and without their own timestamps, keys and
// values null, strings or Buffers: what the gateway sends. Any other request is encoded by kafkajs itself.
// The bytes are kafkajs' own (kafkajs-produce.test.ts compares whole requests), and the broker checks each
// batch's CRC32C, so a wrong byte is refused, not stored. Tied to kafkajs 2.2.x, like kafkajs-record.ts.
import { createRequire } from 'node:module';
import { byteLength, PRODUCE_V3_MODULE, putBytes, putVarint, varintSize } from './kafkajs-record.js';

const require = createRequire(import.meta.url);

interface Message {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, unknown>;
  timestamp?: unknown;
}
interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: Message[];
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}
interface EncoderLike {
  buf: Buffer;
  offset: number;
}
interface ProduceRequest {
  encode: () => Promise<EncoderLike>;
  [k: string]: unknown;
}
type ProduceRequestFactory = (args: ProduceArgs) => ProduceRequest;
interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}
export interface KafkajsInternals {
  encoderPrototype: object;
  longFromValue: (v: unknown) => LongLike;
  crc32C: (buf: Buffer) => number;
}

const TRANSACTIONAL = 16;

function plain(m: Message): boolean {
  const { key, value, headers } = m;
  return (
    (m.timestamp === undefined || m.timestamp === null) &&
    (headers === undefined || Object.keys(headers).length === 0) &&
    (key === null || key === undefined || typeof key === 'string' || Buffer.isBuffer(key)) &&
    (value === null || value === undefined || typeof value === 'string' || Buffer.isBuffer(value))
  );
}

/** The request body kafkajs' v3 encoder writes, for requests in scope; null for anything else. */
export function encodeProduceBody(args: ProduceArgs, k: KafkajsInternals, now: number): EncoderLike | null {
  if ((args.compression ?? 0) !== 0) return null;
  const tid = args.transactionalId ?? null;
  const tidLen = tid === null ? -1 : Buffer.byteLength(tid, 'utf8');
  // sizes first: per partition, the record bodies
  let size = 2 + Math.max(0, tidLen) + 2 + 4 + 4;
  const bodies: number[] = [];
  for (const t of args.topicData) {
    size += 2 + Buffer.byteLength(t.topic, 'utf8') + 4;
    for (const p of t.partitions) {
      if (p.messages.length >= 0x10000000) return null;
      size += 4 + 4 + 61; // partition, batch size, batch header (through the record count)
      for (let i = 0; i < p.messages.length; i++) {
        const m = p.messages[i]!;
        if (!plain(m)) return null;
        const kl = byteLength(m.key);
        const vl = byteLength(m.value);
        const body =
          1 + 1 + varintSize(i) + varintSize(kl) + Math.max(0, kl) + varintSize(vl) + Math.max(0, vl) + 1;
        bodies.push(body);
        size += varintSize(body) + body;
      }
    }
  }
  const producerId = k.longFromValue(args.producerId ?? -1);
  const pidHigh = producerId.getHighBits();
  const pidLow = producerId.getLowBits();
  const tsHigh = Math.floor(now / 0x100000000);
  const tsLow = now >>> 0;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  buf.writeInt16BE(tidLen, at);
  at += 2;
  if (tid !== null) at += buf.write(tid, at, tidLen, 'utf8');
  buf.writeInt16BE(args.acks, at);
  buf.writeInt32BE(args.timeout, at + 2);
  buf.writeInt32BE(args.topicData.length, at + 6);
  at += 10;
  let r = 0;
  for (const t of args.topicData) {
    const topicLen = Buffer.byteLength(t.topic, 'utf8');
    buf.writeInt16BE(topicLen, at);
    at += 2;
    at += buf.write(t.topic, at, topicLen, 'utf8');
    buf.writeInt32BE(t.partitions.length, at);
    at += 4;
    for (const p of t.partitions) {
      const sizeAt = at + 4;
      buf.writeInt32BE(p.partition, at);
      at += 8;
      const batchStart = at;
      buf.writeInt32BE(0, at); // first offset (int64 0)
      buf.writeInt32BE(0, at + 4);
      const lengthAt = at + 8;
      buf.writeInt32BE(0, at + 12); // partition leader epoch
      buf[at + 16] = 2; // magic
      const crcAt = at + 17;
      const crcFrom = at + 21;
      at = crcFrom;
      buf.writeInt16BE(tid ? TRANSACTIONAL : 0, at); // attributes: no compression; transactional as kafkajs decides it
      buf.writeInt32BE(p.messages.length - 1, at + 2); // last offset delta
      buf.writeInt32BE(tsHigh, at + 6); // first timestamp
      buf.writeUInt32BE(tsLow, at + 10);
      buf.writeInt32BE(tsHigh, at + 14); // max timestamp
      buf.writeUInt32BE(tsLow, at + 18);
      buf.writeInt32BE(pidHigh, at + 22);
      buf.writeInt32BE(pidLow, at + 26);
      buf.writeInt16BE(args.producerEpoch ?? 0, at + 30);
      buf.writeInt32BE(p.firstSequence ?? 0, at + 32);
      buf.writeInt32BE(p.messages.length, at + 36);
      at += 40;
      for (let i = 0; i < p.messages.length; i++) {
        const m = p.messages[i]!;
        at = putVarint(buf, at, bodies[r++]!);
        buf[at++] = 0; // attributes
        buf[at++] = 0; // timestamp delta: every record at the batch's timestamp
        at = putVarint(buf, at, i);
        at = putBytes(buf, at, m.key, byteLength(m.key));
        at = putBytes(buf, at, m.value, byteLength(m.value));
        buf[at++] = 0; // no headers
      }
      buf.writeInt32BE(at - lengthAt - 4, lengthAt);
      buf.writeUInt32BE(k.crc32C(buf.subarray(crcFrom, at)), crcAt);
      buf.writeInt32BE(at - batchStart, sizeAt);
    }
  }
  if (at !== size) throw new Error(`produce request encoded ${at} of ${size} bytes`);
  const enc = Object.create(k.encoderPrototype) as EncoderLike;
  enc.buf = buf;
  enc.offset = at;
  return enc;
}

/** kafkajs' v3 request factory with the fast body encoder; the original's encode outside its scope. */
export function makeProduceRequest(
  original: ProduceRequestFactory,
  k: KafkajsInternals,
): ProduceRequestFactory {
  return function fastProduceRequest(args) {
    const req = original(args);
    const slow = req.encode;
    req.encode = async () => encodeProduceBody(args, k, Date.now()) ?? slow();
    return req;
  };
}

/** kafkajs internals the encoder needs, from its own modules. */
export function kafkajsInternals(): KafkajsInternals {
  const Encoder = require('kafkajs/src/protocol/encoder.js') as { prototype: object };
  const Long = require('kafkajs/src/utils/long.js') as { fromValue: (v: unknown) => LongLike };
  const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
  return { encoderPrototype: Encoder.prototype, longFromValue: (v) => Long.fromValue(v), crc32C };
}

let installed: boolean | null = null;

/**
 * Replaces kafkajs' Produce v3 request factory (v4–v7 build on it) for every producer of this process that
 * sends after this call. Returns whether it is in place (false: another kafkajs version, or a Produce
 * request module of a later version was loaded already and holds the original).
 */
export function installFastProduceRequest(): boolean {
  if (installed !== null) return installed;
  installed = false;
  try {
    const version = (require('kafkajs/package.json') as { version: string }).version;
    if (!version.startsWith('2.2.')) return false;
    for (const v of [4, 5, 6, 7]) {
      if (require.cache[require.resolve(`kafkajs/src/protocol/requests/produce/v${v}/request.js`)])
        return false;
    }
    const path = require.resolve(PRODUCE_V3_MODULE);
    const original = require(path) as ProduceRequestFactory;
    const entry = require.cache[path];
    if (typeof original !== 'function' || !entry) return false;
    entry.exports = makeProduceRequest(original, kafkajsInternals());
    installed = true;
  } catch {
    installed = false;
  }
  return installed;
}
