import type { ActivityResult, ActivitySummary, AthleteProfile, ComputeInput } from '../../pipelines/types.js';
import type { ActivityCreated, ActivityUpdated } from '../../schemas/types.js';
import type { Logger } from '../common/logger.js';
import { activityVersion, ROWS_PER_VERSION } from './activity-version.js';
import { type AthleteProfiles, noProfiles } from './athletes.js';
import type { FlushBatch } from './ports.js';
import { sessionKey } from './records.js';
import type { ActivityWrite, ClickHouseStore, SessionRef } from './sink-clickhouse.js';

export type ComputeActivity = (input: ComputeInput, opts?: { version?: string }) => ActivityResult;

export type ActivityEvent =
  | { name: 'ActivityCreated'; value: ActivityCreated }
  | { name: 'ActivityUpdated'; value: ActivityUpdated };

/** Publishes activity events (activities.v1, key = userId); resolves when the broker acked. */
export interface EventPublisher {
  publishActivities(events: readonly ActivityEvent[]): Promise<void>;
}

export interface SessionsOptions {
  timeoutMs: number;
  /** pipelines algorithm version to compute with (replay may pin another) */
  algorithmVersion?: string;
  now?: () => number;
  /** how many finalised-session versions to remember (the rest are asked from ClickHouse) */
  cacheSize?: number;
  /** athlete profiles (HR zones, calories); default: none (pipelines' defaults for everyone) */
  athletes?: AthleteProfiles;
}

interface OpenSession {
  ref: SessionRef;
  partition: number;
  lastSeen: number;
}

/**
 * Sessions per finalisation round trip (read, publish, insert), rounds one after another. One
 * round per flush as a rule: concurrent rounds each run their own FINAL read over the same parts,
 * which measured twice the ClickHouse CPU per sample (bench/worker-throughput.ts, 300k samples:
 * 4 concurrent chunks 22–29 ms, one 10–12 ms per 1k samples) and no faster on 2 cores.
 */
const FINALISE_CHUNK = 500;

export type FinaliseOutcome = 'created' | 'updated' | 'unchanged' | 'empty';

/**
 * The session registry. Opens a session on its first record; finalises it on an end message, on
 * late data for an already finalised session, or after `timeoutMs` without new records.
 *
 * Finalisation never uses in-memory state: it reads the session's deduplicated samples, controls
 * and sets back from ClickHouse, recomputes the activity with pipelines, derives the version from
 * that data (activity-version.ts), publishes ActivityCreated (first version) or ActivityUpdated
 * (a higher one), then writes cleaned samples and the activity row. A crash anywhere in between
 * re-does the same computation with the same result; an event may be published twice (consumers
 * keep the highest version), never zero times.
 */
export class Sessions {
  private readonly open = new Map<string, OpenSession>();
  private readonly versions = new Map<string, number>();
  private owned = new Set<number>();
  private recoverPending = false;
  private readonly now: () => number;
  readonly stats = { created: 0, updated: 0, unchanged: 0, empty: 0 };
  onOutcome: (o: FinaliseOutcome) => void = () => {};

  constructor(
    private readonly store: ClickHouseStore,
    private readonly publisher: EventPublisher,
    private readonly compute: ComputeActivity,
    private readonly opts: SessionsOptions,
    private readonly logger: Logger,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get openCount(): number {
    return this.open.size;
  }

  /** After a rebalance: sessions of newly owned partitions are recovered on the next sweep. */
  assign(partitions: readonly number[]): void {
    this.owned = new Set(partitions);
    for (const [k, s] of this.open) if (!this.owned.has(s.partition)) this.open.delete(k);
    this.recoverPending = true;
  }

  private remember(k: string, version: number): void {
    this.versions.delete(k);
    this.versions.set(k, version);
    const max = this.opts.cacheSize ?? 100_000;
    if (this.versions.size > max) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) this.versions.delete(oldest);
    }
  }

  /**
   * Called after every sink acknowledged `batch`: finalises the sessions that ended in it, and
   * re-finalises finalised sessions that received late data. Resolves when all is durable.
   */
  async afterFlush(batch: FlushBatch): Promise<void> {
    const touched = new Map<string, { ref: SessionRef; partition: number; ended: boolean }>();
    for (const r of batch.records) {
      const d = r.decoded;
      const s = d.kind === 'batch' ? d.batch : d.control;
      const k = sessionKey(s.deviceId, s.sessionId);
      let t = touched.get(k);
      if (!t) {
        t = {
          ref: { userId: s.userId, deviceId: s.deviceId, sessionId: s.sessionId, sport: s.sport },
          partition: r.raw.partition,
          ended: false,
        };
        touched.set(k, t);
      }
      if (d.kind === 'control' && d.control.kind === 'end') t.ended = true;
    }
    if (touched.size === 0) return;
    const unknown = [...touched]
      .filter(([k]) => !this.open.has(k) && !this.versions.has(k))
      .map(([, t]) => t.ref);
    const stored = await this.store.activityVersions(unknown);
    for (const [k, a] of stored) this.remember(k, a.version);
    const absent = new Set(
      unknown.map((r) => sessionKey(r.deviceId, r.sessionId)).filter((k) => !stored.has(k)),
    );
    const now = this.now();
    const due: SessionRef[] = [];
    for (const [k, t] of touched) {
      if (t.ended || this.versions.has(k)) {
        due.push(t.ref);
      } else {
        this.open.set(k, { ref: t.ref, partition: t.partition, lastSeen: now });
      }
    }
    if (due.length === 0) return;
    // one profile look-up for every user finalised in this flush
    const profiles = await this.profiles(due);
    for (let i = 0; i < due.length; i += FINALISE_CHUNK) {
      await this.finaliseMany(due.slice(i, i + FINALISE_CHUNK), 'late_data', absent, profiles);
    }
  }

  /** Finalise sessions with no records for `timeoutMs` (and, after a rebalance, recover open ones). */
  async sweep(): Promise<number> {
    const now = this.now();
    if (this.recoverPending) {
      this.recoverPending = false;
      const parts = [...this.owned];
      for (const s of await this.store.unfinalisedSessions(parts)) {
        const k = sessionKey(s.deviceId, s.sessionId);
        if (!this.open.has(k)) this.open.set(k, { ref: s, partition: s.partition, lastSeen: now });
      }
    }
    const due = [...this.open.values()].filter((s) => now - s.lastSeen >= this.opts.timeoutMs);
    for (let i = 0; i < due.length; i += 200) {
      await this.finaliseMany(
        due.slice(i, i + 200).map((s) => s.ref),
        'late_data',
      );
    }
    return due.length;
  }

  private profiles(refs: readonly SessionRef[]): Promise<Map<string, AthleteProfile>> {
    return (this.opts.athletes ?? noProfiles).profiles([...new Set(refs.map((r) => r.userId))]);
  }

  async finalise(ref: SessionRef, reason: 'late_data' | 'recompute'): Promise<FinaliseOutcome> {
    const [o] = await this.finaliseMany([ref], reason);
    return o!;
  }

  /**
   * Finalises many sessions with a constant number of round trips: one read of their durable
   * input, one look-up of unknown stored versions, one Kafka send, one insert per table.
   * `knownAbsent`: sessions the caller just learnt have no activity yet. `profiles`: the athletes'
   * profiles by user id, when the caller already looked them up (else one look-up here).
   */
  async finaliseMany(
    refs: readonly SessionRef[],
    reason: 'late_data' | 'recompute',
    knownAbsent: ReadonlySet<string> = new Set(),
    profiles?: ReadonlyMap<string, AthleteProfile>,
  ): Promise<FinaliseOutcome[]> {
    if (refs.length === 0) return [];
    const [inputs, athletes] = await Promise.all([
      this.store.readSessions(refs),
      profiles ?? this.profiles(refs),
    ]);
    const unknown = refs.filter((r) => {
      const k = sessionKey(r.deviceId, r.sessionId);
      return !this.versions.has(k) && !knownAbsent.has(k);
    });
    const looked = await this.store.activityVersions(unknown);
    const outcomes: FinaliseOutcome[] = [];
    const events: ActivityEvent[] = [];
    const writes: ActivityWrite[] = [];
    const done: [string, number, boolean][] = [];
    for (const ref of refs) {
      const k = sessionKey(ref.deviceId, ref.sessionId);
      const stored = inputs.get(k)!;
      this.open.delete(k);
      if (stored.samples.length === 0 && stored.sets.length === 0) {
        // An end (or start) without any data: nothing to compute. Late samples re-open it.
        outcomes.push('empty');
        continue;
      }
      const result = this.compute(
        {
          userId: ref.userId,
          deviceId: ref.deviceId,
          sessionId: ref.sessionId,
          sport: ref.sport as ComputeInput['sport'],
          samples: stored.samples,
          controls: stored.controls,
          sets: stored.sets,
          athlete: athletes.get(ref.userId) ?? {},
        },
        this.opts.algorithmVersion ? { version: this.opts.algorithmVersion } : undefined,
      );
      const s = result.summary;
      const version = activityVersion(
        stored.samples.length + stored.controls.length + stored.sets.length,
        s.algorithmVersion,
      );
      const previous = this.versions.get(k) ?? looked.get(k)?.version;
      if (previous !== undefined && previous >= version) {
        this.remember(k, previous);
        outcomes.push('unchanged');
        continue;
      }
      events.push(eventFor(s, version, previous, reason, this.now()));
      writes.push({ ref, version, summary: s, clean: result.samples, input: stored.samples });
      done.push([k, version, previous === undefined]);
      outcomes.push(previous === undefined ? 'created' : 'updated');
    }
    // event first, then the rows: a crash in between re-does both (an event may repeat, never go missing)
    if (events.length > 0) await this.publisher.publishActivities(events);
    if (writes.length > 0) await this.store.writeActivities(writes);
    for (const [k, v] of done) this.remember(k, v);
    if (events.length > 0) {
      this.logger.debug({ sessions: refs.length, events: events.length }, 'activities finalised');
    }
    for (const o of outcomes) {
      this.stats[o]++;
      this.onOutcome(o);
    }
    return outcomes;
  }
}

function eventFor(
  s: ActivitySummary,
  version: number,
  previous: number | undefined,
  reason: 'late_data' | 'recompute',
  now: number,
): ActivityEvent {
  const common = {
    activityId: s.activityId,
    userId: s.userId,
    sessionId: s.sessionId,
    deviceId: s.deviceId,
    sport: s.sport,
    version,
    algorithmVersion: s.algorithmVersion,
    startTs: s.startTs,
    endTs: s.endTs,
    distanceM: s.distanceM,
    movingS: s.movingS,
    elapsedS: s.elapsedS,
    elevationGainM: s.elevGainM,
    avgHr: s.hr?.avg ?? null,
    maxHr: s.hr ? Math.round(s.hr.max) : null,
    samples: s.sampleCount,
    summaryJson: JSON.stringify({
      splitsKm: s.splitsKm,
      laps: s.laps,
      bestEfforts: s.bestEfforts,
      hrZonesS: s.hr?.zonesS ?? null,
      calories: s.calories,
    }),
    at: now,
  };
  if (previous === undefined) return { name: 'ActivityCreated', value: common };
  const algorithmChanged = Math.floor(previous / ROWS_PER_VERSION) !== Math.floor(version / ROWS_PER_VERSION);
  return { name: 'ActivityUpdated', value: { ...common, reason: algorithmChanged ? 'recompute' : reason } };
}
