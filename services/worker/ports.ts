// The worker's ports: every interface between its logic (worker.ts, sessions.ts) and a system outside
// it. Each has one implementation per backend, named `<kind>-<system>.ts`, and a shared contract test
// (ports.contract.int.test.ts) that every implementation passes against its real backend.
import type { ActivitySummary, AthleteProfile, CleanSamples } from '../../pipelines/types.js';
import type {
  ActivityCreated,
  ActivityUpdated,
  ManualEntry,
  SessionControl,
  StrengthSet,
} from '../../schemas/types.js';
import type { DlqReason } from '../../schemas/vocabulary.js';
import type { LiveSnapshot } from './live.js';
import type { InboundRecord, RawRecord } from './records.js';
import type { StoredSamples } from './stored-samples.js';

// ---- Source -------------------------------------------------------------------------------------

/**
 * What a Source drives (the Worker): records in, one flush job at a time out, in two stages. A source
 * hands every record to `ingest`, takes the ingested records as a job, calls `write` then `complete`
 * for it, and acknowledges (commits) the job's records only after `complete` resolved, so a crash at
 * any point re-delivers everything after the last acknowledged job.
 */
export interface SourceHandler<J = unknown> {
  /** Decodes/classifies one record into the pending batch; returns its weight (samples). */
  ingest(raw: RawRecord): Promise<number>;
  /** Takes every record ingested since the last take (synchronously) as one job. */
  take(): J;
  /** Stage 1: makes a job durable; resolves when all sinks acked. Called in take order, one at a time. */
  write(job: J, heartbeat: () => Promise<void>): Promise<void>;
  /** Stage 2, after the job's write: in take order, one at a time, overlapping the next job's write. */
  complete(job: J, heartbeat: () => Promise<void>): Promise<void>;
  /** The partitions this member owns (after a rebalance; a source without partitions names its own). */
  assigned(partitions: number[]): void;
}

/** Reads records into a SourceHandler and acknowledges them once the handler made them durable. */
export interface Source {
  start(): Promise<void>;
  /** Runs `f` between flushes (never concurrently with ingest or a flush): the sweep. */
  exclusive<T>(f: () => Promise<T>): Promise<T>;
  /** Stops reading, flushes and acknowledges what was read, and disconnects. */
  stop(): Promise<void>;
}

// ---- Sink ---------------------------------------------------------------------------------------

/** What one flush hands to every sink: all raw records (archive) and the ones that decoded. */
export interface FlushBatch {
  raw: readonly RawRecord[];
  records: readonly InboundRecord[];
}

/**
 * A sink acknowledges a batch by resolving. It must be idempotent: the same batch (or an
 * overlapping one, after a crash or rebalance) written again leaves the same readable result.
 * It throws SinkUnavailableError when a retry may help, SinkRejectedError when it will not.
 */
export interface Sink {
  readonly name: string;
  /**
   * true: a SinkRejectedError may be caused by some of the batch's records only (a value the
   * server refuses). The worker then writes the batch in halves, recursively, dead-letters the
   * single records that are still rejected (`sink_rejected`) and carries on with the rest. A sink
   * that sets it must read nothing but `records` of a batch.
   */
  readonly isolatesRejections?: boolean;
  writeBatch(batch: FlushBatch): Promise<void>;
  close(): Promise<void>;
}

// ---- SessionStore -------------------------------------------------------------------------------

/** What identifies a session and who owns it. */
export interface SessionRef {
  userId: string;
  deviceId: string;
  sessionId: string;
  sport: string;
}

/** A session as durably stored: the input to a finalisation. */
export interface StoredSession {
  samples: StoredSamples;
  controls: SessionControl[];
  sets: StrengthSet[];
  manual: ManualEntry[];
}

export interface StoredActivity {
  deviceId: string;
  sessionId: string;
  /** the id it is stored under (sessions stored before ids named the device keep theirs) */
  activityId: string;
  version: number;
  /**
   * Lowest version still stored (non-FINAL; merges drop older versions, so this may equal
   * `version` even when earlier versions existed): tells a re-announced event Created from Updated.
   */
  firstVersion: number;
  day: string;
}

export interface ActivityWrite {
  ref: SessionRef;
  version: number;
  summary: ActivitySummary;
  clean: CleanSamples;
  /** the stored rows the activity was computed from (device-reported acc/speed/dist and laps come from them) */
  input: StoredSamples;
}

/**
 * What finalisation (sessions.ts) needs from the durable store: the sessions' stored input, what is
 * known of their activities, and the activity writes. Reads are batched (a constant number of
 * queries for many sessions); writes are idempotent. Unavailable → SinkUnavailableError (retried),
 * refused → SinkRejectedError.
 */
export interface SessionStore {
  /** The deduplicated durable input of many sessions, in device-time order, by sessionKey (every ref present). */
  readSessions(refs: readonly SessionRef[]): Promise<Map<string, StoredSession>>;
  /** Which of these sessions have any durable row, by sessionKey. */
  knownSessions(refs: readonly SessionRef[]): Promise<Set<string>>;
  /** Latest stored version of the activities of these sessions, by sessionKey (absent: never finalised). */
  activityVersions(refs: readonly SessionRef[]): Promise<Map<string, StoredActivity>>;
  /** Stores activity versions (their streams, then their activity rows). */
  writeActivities(items: readonly ActivityWrite[]): Promise<void>;
  /** Records that the events of these activity versions were acknowledged by the broker. */
  writeAnnouncements(items: readonly { ref: SessionRef; version: number }[]): Promise<void>;
  /**
   * Sessions of these partitions that a flush carried at or after `sinceMs` (worker clock) and
   * that have no announced activity: what a new owner of the partitions must finalise.
   */
  unfinalisedSessions(
    partitions: readonly number[],
    sinceMs: number,
  ): Promise<(SessionRef & { partition: number })[]>;
}

// ---- LiveStore ----------------------------------------------------------------------------------

/**
 * Live state of sessions in progress (for coaches): the latest snapshot of each session, the athlete's
 * active sessions, and a message per change. An ended session stays ended (a later snapshot of it
 * changes nothing and publishes nothing). Resolves when stored; unavailable → SinkUnavailableError.
 */
export interface LiveStore {
  readonly name: string;
  publish(states: readonly LiveSnapshot[]): Promise<void>;
  close(): Promise<void>;
}

// ---- EventPublisher -----------------------------------------------------------------------------

export type ActivityEvent =
  | { name: 'ActivityCreated'; value: ActivityCreated }
  | { name: 'ActivityUpdated'; value: ActivityUpdated };

/** Publishes activity events (activities.v1, key = userId); resolves when the broker acked. */
export interface EventPublisher {
  publishActivities(events: readonly ActivityEvent[]): Promise<void>;
}

// ---- DeadLetterQueue ----------------------------------------------------------------------------

export interface DeadLetter {
  /** the record as consumed; for a session that failed to finalise, a description of it (see Sessions) */
  raw: RawRecord;
  reason: DlqReason;
  message: string;
  deviceId: string | null;
  /** where it came from, when not the Kafka record `raw` (default `kafka:<topic>/<partition>@<offset>`) */
  source?: string;
}

/** Where records that cannot be processed go, with their reason; resolves when durable. */
export interface DeadLetterQueue {
  deadLetter(items: readonly DeadLetter[], now: number): Promise<void>;
}

// ---- AthleteProfiles ----------------------------------------------------------------------------

/**
 * Athlete profiles (max/resting HR, birth year, weight, sex) that finalisation computes with, by user id:
 * the columns the athlete edits through `PATCH /v1/users/me`.
 */
export interface AthleteProfiles {
  /** One look-up for many users; every id asked for is in the answer ({} = defaults). */
  profiles(userIds: readonly string[]): Promise<Map<string, AthleteProfile>>;
}
