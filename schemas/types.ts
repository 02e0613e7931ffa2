// Provisional hand-written types for the wire records. The schemas helper replaces this file with
// types generated from schemas/*.avsc under the SAME names and field names.

export type Sport = 'running' | 'cycling' | 'walking' | 'hiking' | 'strength';

/** One per-second sample as sent by a device. Identity: (deviceId, sessionId, seq). */
export interface Sample {
  /** device time, ms since epoch (UTC) */
  ts: number;
  /** per-session sequence number, monotonically increasing from the device; null when the device has none */
  seq: number | null;
  /** WGS84 degrees; null for samples without a fix (indoor / strength) */
  lat: number | null;
  lon: number | null;
  /** metres above sea level */
  alt: number | null;
  /** horizontal accuracy, metres (1 sigma) */
  acc: number | null;
  /** device-reported speed m/s */
  speed: number | null;
  /** device-reported cumulative distance in metres */
  dist: number | null;
  hr: number | null;
  cadence: number | null;
  power: number | null;
  /** true when the athlete pressed lap at this sample */
  lap: boolean;
}

/** One strength set (sessions without GPS). */
export interface StrengthSet {
  exercise: string;
  reps: number;
  weightKg: number | null;
  startTs: number;
  endTs: number | null;
}

/** What the gateway/api produce to telemetry.samples.v1 (key = sessionId). */
export interface TelemetryBatch {
  deviceId: string;
  userId: string;
  /** client session id, unique per device */
  sessionId: string;
  sport: Sport;
  samples: Sample[];
  sets: StrengthSet[];
  /** where it came from: mqtt | upload | import | replay */
  source: string;
  /** gateway/api receive time, ms */
  receivedAt: number;
}

export type SessionControlKind = 'start' | 'pause' | 'resume' | 'end' | 'lap';

export interface SessionControl {
  deviceId: string;
  userId: string;
  sessionId: string;
  kind: SessionControlKind;
  sport: Sport;
  /** device time of the event, ms */
  ts: number;
  receivedAt: number;
}
