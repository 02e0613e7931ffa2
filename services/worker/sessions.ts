import type { ActivityResult, ComputeInput } from '../../pipelines/types.js';
import type { ActivityCreated, ActivityUpdated } from '../../schemas/types.js';
import type { Logger } from '../common/logger.js';
import { activityVersion } from './activity-version.js';
import type { FlushBatch } from './ports.js';
import { sessionKey } from './records.js';
import type { ClickHouseStore, SessionRef } from './sink-clickhouse.js';

export type ComputeActivity = (input: ComputeInput, opts?: { version?: string }) => ActivityResult;

export type ActivityEvent =
  | { name: 'ActivityCreated'; value: ActivityCreated }
  | { name: 'ActivityUpdated'; value: ActivityUpdated };

/** Publishes activity events (activities.v1, key = userId); resolves when the broker acked. */
export interface EventPublisher {
  publishActivity(e: ActivityEvent): Promise<void>;
}

export interface SessionsOptions {
  timeoutMs: number;
  /** pipelines algorithm version to compute with (replay may pin another) */
  algorithmVersion?: string;
  now?: () => number;
  /** how many finalised-session versions to remember (the rest are asked from ClickHouse) */
  cacheSize?: number;
}

interface OpenSession {
  ref: SessionRef;
  partition: number;
  lastSeen: number;
}

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
    const now = this.now();
    const due: SessionRef[] = [];
    for (const [k, t] of touched) {
      if (t.ended || this.versions.has(k)) {
        due.push(t.ref);
      } else {
        this.open.set(k, { ref: t.ref, partition: t.partition, lastSeen: now });
      }
    }
    for (const ref of due) await this.finalise(ref, 'late_data');
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
    for (const s of due) await this.finalise(s.ref, 'late_data');
    return due.length;
  }

  async finalise(ref: SessionRef, reason: 'late_data' | 'recompute'): Promise<FinaliseOutcome> {
    const k = sessionKey(ref.deviceId, ref.sessionId);
    const stored = await this.store.readSession(ref);
    if (stored.samples.length === 0 && stored.sets.length === 0) {
      // An end (or start) without any data: nothing to compute. Late samples re-open it.
      this.open.delete(k);
      this.stats.empty++;
      this.onOutcome('empty');
      return 'empty';
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
        athlete: {},
      },
      this.opts.algorithmVersion ? { version: this.opts.algorithmVersion } : undefined,
    );
    const s = result.summary;
    const version = activityVersion(
      stored.samples.length + stored.controls.length + stored.sets.length,
      s.algorithmVersion,
    );
    let previous = this.versions.get(k);
    if (previous === undefined) previous = (await this.store.activityVersions([ref])).get(k)?.version;
    this.open.delete(k);
    if (previous !== undefined && previous >= version) {
      this.remember(k, previous);
      this.stats.unchanged++;
      this.onOutcome('unchanged');
      return 'unchanged';
    }
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
      at: this.now(),
    };
    const algorithmChanged =
      previous !== undefined && Math.floor(previous / 1e6) !== Math.floor(version / 1e6);
    const event: ActivityEvent =
      previous === undefined
        ? { name: 'ActivityCreated', value: common }
        : { name: 'ActivityUpdated', value: { ...common, reason: algorithmChanged ? 'recompute' : reason } };
    await this.publisher.publishActivity(event);
    await this.store.writeActivity(ref, version, s, result.samples, stored.samples);
    this.remember(k, version);
    if (previous === undefined) this.stats.created++;
    else this.stats.updated++;
    this.onOutcome(previous === undefined ? 'created' : 'updated');
    this.logger.debug({ sessionId: ref.sessionId, version, event: event.name }, 'activity finalised');
    return previous === undefined ? 'created' : 'updated';
  }
}
