import type { SessionControl, TelemetryBatch } from '../../schemas/types.js';

/** A Kafka record as consumed: exact bytes (for the archive) plus where it came from. */
export interface RawRecord {
  topic: string;
  partition: number;
  /** Kafka offset, as a decimal string (kafkajs' representation) */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** broker timestamp, ms */
  timestamp: number;
}

export type Decoded = { kind: 'batch'; batch: TelemetryBatch } | { kind: 'control'; control: SessionControl };

/** A record that decoded and passed the checks the stages rely on. */
export interface InboundRecord {
  raw: RawRecord;
  decoded: Decoded;
}

/** (deviceId, sessionId): the identity of a session everywhere in the worker. */
export function sessionKey(deviceId: string, sessionId: string): string {
  return `${deviceId}\u0000${sessionId}`;
}

export function sessionOf(d: Decoded): {
  deviceId: string;
  userId: string;
  sessionId: string;
  sport: string;
} {
  return d.kind === 'batch' ? d.batch : d.control;
}
