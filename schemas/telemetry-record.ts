// The Kafka record of a telemetry payload. The gateway turns every accepted telemetry payload into a
// Confluent-framed TelemetryBatch; two paths build exactly the same bytes (telemetry-record.test.ts compares them
// with avsc's encoding):
//
// - Avro payloads whose Avro is canonical (one block per array, shortest varints, no strength sets) pass
//   the one-pass check (avro-telemetry-check.ts) and are copied: a DeviceTelemetry body (sessionId,
//   sport, samples, sets) is byte for byte the middle of a TelemetryBatch, because Sample is the same
//   record in both. No objects are built, no avsc decode or encode runs, and the pre-walk of
//   avroWellFormed is not needed (the check bounds every count by the bytes left). Anything else — a
//   payload the check would refuse, or one it does not handle — takes the general path, so a refusal
//   always comes from parseDeviceTelemetry with its first reason.
// - Everything else: parseDeviceTelemetry (payload.ts), then the hand-written encoder of the batch below
//   (avsc's generated writer spent most of its time choosing union branches), or avsc when the batch has
//   strength sets.

import { avroTypes } from './avro.js';
import { checkCanonicalAvroTelemetry } from './avro-telemetry-check.js';
import { type PayloadContext, type PayloadFormat, parseDeviceTelemetry, type Rejection } from './payload.js';
import type { TelemetryBatch } from './types.gen.js';
import { encodeConfluent } from './wire.js';

export type TelemetryRecordResult =
  | {
      ok: true;
      sessionId: string;
      /** samples in the batch */
      samples: number;
      /** Confluent wire format: magic byte, schema id, Avro TelemetryBatch */
      value: Buffer;
    }
  | Rejection;

/**
 * Validates a telemetry payload (the rules of parseDeviceTelemetry) and returns the Kafka record value:
 * the TelemetryBatch framed with `schemaId`. Refusals are those of parseDeviceTelemetry, reason for reason.
 */
export function telemetryRecord(
  format: PayloadFormat,
  payload: Buffer,
  ctx: PayloadContext,
  schemaId: number,
): TelemetryRecordResult {
  if (format === 'avro') {
    const fast = checkCanonicalAvroTelemetry(payload, ctx);
    if (fast !== null) {
      putHeader(schemaId, ctx.deviceId, ctx.userId);
      ensure(payload.length);
      payload.copy(out, op);
      op += payload.length;
      return {
        ok: true,
        sessionId: fast.sessionId,
        samples: fast.samples,
        value: putTrailer(ctx.source ?? 'mqtt', ctx.nowMs),
      };
    }
  }
  const r = parseDeviceTelemetry(format, payload, ctx);
  if (!r.ok) return r;
  return {
    ok: true,
    sessionId: r.batch.sessionId,
    samples: r.batch.samples.length,
    value: encodeTelemetryBatch(schemaId, r.batch),
  };
}

// One growing scratch buffer: encoding is synchronous, so it is never shared by two calls.
let out = Buffer.allocUnsafe(64 * 1024);
// DataView's float writes compile to a store; Buffer's writeDoubleLE/writeFloatLE are library calls.
let outView = new DataView(out.buffer, out.byteOffset, out.length);
let op = 0;

function ensure(bytes: number): void {
  if (op + bytes <= out.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, op + bytes));
  out.copy(bigger, 0, 0, op);
  out = bigger;
  outView = new DataView(out.buffer, out.byteOffset, out.length);
}

/** Avro long/int of a non-negative integer (zig-zag: 2n), shortest form, as avsc writes it. */
function putNat(n: number): void {
  let z = n * 2;
  if (z < 0x80000000) {
    while (z > 127) {
      out[op++] = (z & 127) | 128;
      z >>>= 7;
    }
  } else {
    while (z >= 128) {
      out[op++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
  }
  out[op++] = z;
}

function putString(s: string): void {
  const n = Buffer.byteLength(s, 'utf8');
  ensure(n + 10);
  putNat(n);
  op += out.write(s, op, 'utf8');
}

/** Confluent header, then the batch's first fields (deviceId, userId). */
function putHeader(schemaId: number, deviceId: string, userId: string): void {
  out[0] = 0; // Confluent magic byte
  out.writeInt32BE(schemaId, 1);
  op = 5;
  putString(deviceId);
  putString(userId);
}

/** The batch's last fields (source, receivedAt, manual: null); returns a copy of the record. */
function putTrailer(source: string, receivedAt: number): Buffer {
  putString(source);
  ensure(11);
  putNat(receivedAt);
  out[op++] = 0; // manual: null (a gateway batch is never a manual entry)
  return Buffer.from(out.subarray(0, op));
}

/** Bytes a Sample takes at most: long + 3 unions of long/double + 3 of float + 1 of double + 3 of int + bool. */
const MAX_SAMPLE_BYTES = 10 + 11 + 9 + 9 + 5 + 5 + 5 + 9 + 6 + 6 + 6 + 1;

/**
 * Confluent-framed Avro of a validated batch (its numbers are in range: non-negative integers where the
 * schema says long/int). Byte-identical to encodeConfluent(schemaId, avroTypes.TelemetryBatch, batch).
 */
export function encodeTelemetryBatch(schemaId: number, batch: TelemetryBatch): Buffer {
  if (batch.sets.length > 0 || batch.manual)
    return encodeConfluent(schemaId, avroTypes.TelemetryBatch, batch);
  putHeader(schemaId, batch.deviceId, batch.userId);
  putString(batch.sessionId);
  putString(batch.sport);
  const samples = batch.samples;
  ensure(20 + samples.length * MAX_SAMPLE_BYTES);
  if (samples.length > 0) putNat(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    putNat(s.ts);
    putOptNat(s.seq);
    putOptDouble(s.lat);
    putOptDouble(s.lon);
    putOptFloat(s.alt);
    putOptFloat(s.acc);
    putOptFloat(s.speed);
    putOptDouble(s.dist);
    putOptNat(s.hr);
    putOptNat(s.cadence);
    putOptNat(s.power);
    out[op++] = s.lap ? 1 : 0;
  }
  out[op++] = 0; // end of samples
  out[op++] = 0; // sets: empty
  return putTrailer(batch.source, batch.receivedAt);
}

// Union ["null", T]: branch 0 is null, branch 1 (zig-zag 2) the value.
function putOptNat(v: number | null | undefined): void {
  if (v === null || v === undefined) out[op++] = 0;
  else {
    out[op++] = 2;
    putNat(v);
  }
}
function putOptDouble(v: number | null | undefined): void {
  if (v === null || v === undefined) out[op++] = 0;
  else {
    out[op++] = 2;
    outView.setFloat64(op, v, true);
    op += 8;
  }
}
function putOptFloat(v: number | null | undefined): void {
  if (v === null || v === undefined) out[op++] = 0;
  else {
    out[op++] = 2;
    outView.setFloat32(op, v, true);
    op += 4;
  }
}
