import type { AthleteProfile } from '../../pipelines/types.js';
import type { Logger } from '../common/logger.js';
import { noProfiles } from './athletes.js';
import type { DeletedActivities } from './deleted-activities.js';
import {
  type FinalisedMessage,
  type FinaliseInputsMessage,
  finalisedChannel,
  finaliseInputsChannel,
} from './diagnostics.js';
import {
  type ComputeActivity,
  FINALISE_CHUNK,
  type FinaliseContext,
  type FinaliseFailure,
  type FinaliseOutcome,
  finaliseRound,
} from './finalise.js';
import type { AthleteProfiles, EventPublisher, FlushBatch, SessionRef, SessionStore } from './ports.js';
import { sessionKey } from './records.js';
import { SessionImages } from './session-images.js';
import { SessionRegistry } from './session-registry.js';

export interface SessionsOptions {
  timeoutMs: number;
  /**
   * After a restart or rebalance, sessions of the new partitions that a flush carried within this
   * long and that were never announced are recovered (finalised after `timeoutMs`). Default 7 days.
   */
  recoveryWindowMs?: number;
  /** pipelines algorithm version to compute with (replay may pin another) */
  algorithmVersion?: string;
  now?: () => number;
  /** how many finalised-session versions to remember (the rest are asked from ClickHouse) */
  cacheSize?: number;
  /** athlete profiles (HR zones, calories); default: none (pipelines' defaults for everyone) */
  athletes?: AthleteProfiles;
  /**
   * Where a session whose computation threw goes (the worker: telemetry.dlq.v1, reason
   * `finalise_failed`); resolves when it is durable. Default: logged only (replay, tests).
   */
  deadLetter?: (failures: readonly FinaliseFailure[]) => Promise<void>;
  /**
   * Memory for in-memory images of sessions' durable input (session-images.ts), bytes; 0 (the
   * default) reads every session back from ClickHouse at finalisation.
   */
  imageBytes?: number;
  /**
   * Announce again an activity version that ClickHouse holds but this process has not seen
   * announced (it may have been stored by a round whose send never happened). Default true; replay
   * without `--publish` turns it off, since it has nowhere to announce.
   */
  reannounce?: boolean;
  /** the tombstones of deleted activities: such a session is never finalised again (outcome `deleted`) */
  deletedActivities?: DeletedActivities;
  /**
   * The reason an ActivityUpdated of the same algorithm gives (a newer algorithm always says
   * `recompute`): `late_data` (default, live traffic) or `recompute` (the replay rebuilds).
   */
  finaliseReason?: 'late_data' | 'recompute';
}

const DEFAULT_RECOVERY_WINDOW_MS = 7 * 24 * 3600 * 1000;

/**
 * The sessions of this worker. Opens a session on its first record; finalises it on an end message, on
 * late data for an already finalised session, or after `timeoutMs` without new records.
 *
 * Finalisation computes from the session's durable input: its deduplicated samples, controls and
 * sets as ClickHouse holds them — read back, or, when this process provably wrote all of it
 * itself, taken from an in-memory image of exactly those rows (session-images.ts; the same values
 * in the same order, so the same result). It recomputes the activity with pipelines, derives the
 * version from that data (activity-version.ts), writes cleaned samples and the activity row, and
 * only after ClickHouse acknowledged them publishes ActivityCreated (first version) or
 * ActivityUpdated (a higher one), so an event never announces a row that is not stored. A crash
 * anywhere in between re-does the same computation with the same result (after a restart the
 * session is read back); a stored version that this process has not seen announced is announced
 * again, so an event may be published twice (consumers dedupe on activityId + version), never
 * zero times.
 *
 * The parts: the open-session registry (session-registry.ts), the finalisation round (finalise.ts),
 * the event mapping (activity-events.ts), the in-memory images (session-images.ts).
 */
export class Sessions {
  private readonly registry: SessionRegistry;
  private readonly now: () => number;
  private readonly round: FinaliseContext;
  readonly stats = { created: 0, updated: 0, unchanged: 0, empty: 0, failed: 0, deleted: 0 };
  /** where finalisations took their input from */
  readonly inputs = { memory: 0, clickhouse: 0 };
  readonly images: SessionImages;
  private readonly reason: 'late_data' | 'recompute';

  constructor(
    private readonly store: SessionStore,
    publisher: EventPublisher,
    compute: ComputeActivity,
    private readonly opts: SessionsOptions,
    logger: Logger,
  ) {
    this.now = opts.now ?? Date.now;
    this.reason = opts.finaliseReason ?? 'late_data';
    this.images = new SessionImages(opts.imageBytes ?? 0);
    this.registry = new SessionRegistry(opts.cacheSize);
    this.round = {
      store,
      publisher,
      compute,
      registry: this.registry,
      images: this.images,
      opts,
      logger,
      now: this.now,
      profiles: (refs) => this.profiles(refs),
      onInputs: (memory, clickhouse) => {
        this.inputs.memory += memory;
        this.inputs.clickhouse += clickhouse;
        if (finaliseInputsChannel.hasSubscribers) {
          finaliseInputsChannel.publish({
            sessions: this,
            memory,
            clickhouse,
          } satisfies FinaliseInputsMessage);
        }
      },
    };
  }

  get openCount(): number {
    return this.registry.openCount;
  }

  /** After a rebalance: sessions of newly owned partitions are recovered on the next sweep. */
  assign(partitions: readonly number[]): void {
    this.registry.assign(partitions);
    this.images.retain(this.registry.owned);
  }

  /**
   * Called before `batch` is written to any sink: sessions this process sees for the first time
   * get an in-memory image if ClickHouse has no row of them yet (one look-up per flush).
   */
  async beforeWrite(batch: FlushBatch): Promise<void> {
    if (!this.images.enabled) return;
    const fresh = new Map<string, SessionRef & { partition: number }>();
    for (const r of batch.records) {
      const d = r.decoded;
      const s = d.kind === 'batch' ? d.batch : d.control;
      const k = sessionKey(s.deviceId, s.sessionId);
      if (this.images.has(k) || fresh.has(k)) continue;
      if (this.registry.isFinalised(k)) {
        // finalised before: its rows are durable already
        this.images.open(k, r.raw.partition, s.userId, false);
        continue;
      }
      fresh.set(k, {
        userId: s.userId,
        deviceId: s.deviceId,
        sessionId: s.sessionId,
        sport: s.sport,
        partition: r.raw.partition,
      });
    }
    if (fresh.size === 0) return;
    const known = await this.store.knownSessions([...fresh.values()]);
    for (const [k, f] of fresh) this.images.open(k, f.partition, f.userId, !known.has(k));
  }

  /**
   * Called after every sink acknowledged `batch`: finalises the sessions that ended in it, and
   * re-finalises finalised sessions that received late data. Resolves when all is durable.
   */
  async afterFlush(batch: FlushBatch): Promise<void> {
    this.images.append(batch);
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
      .filter(([k]) => !this.registry.isOpen(k) && !this.registry.isFinalised(k))
      .map(([, t]) => t.ref);
    const stored = await this.store.activityVersions(unknown);
    for (const [k, a] of stored) this.registry.remember(k, a.version, a.firstVersion);
    this.registry.noteStoredIds(stored, unknown);
    const absent = new Set(
      unknown.map((r) => sessionKey(r.deviceId, r.sessionId)).filter((k) => !stored.has(k)),
    );
    const now = this.now();
    const due: SessionRef[] = [];
    for (const [k, t] of touched) {
      if (t.ended || this.registry.isFinalised(k)) {
        due.push(t.ref);
      } else {
        this.registry.touch(k, t.ref, t.partition, now);
      }
    }
    if (due.length === 0) return;
    // one profile look-up for every user finalised in this flush
    const profiles = await this.profiles(due);
    for (let i = 0; i < due.length; i += FINALISE_CHUNK) {
      await this.finaliseMany(due.slice(i, i + FINALISE_CHUNK), this.reason, absent, profiles);
    }
  }

  /** Finalise sessions with no records for `timeoutMs` (and, after a rebalance, recover open ones). */
  async sweep(): Promise<number> {
    const now = this.now();
    const owned = this.registry.recoveryDue();
    if (owned) {
      // seen_ms is the sink's wall clock, so the window is too (not the injectable `now`)
      const since = Date.now() - (this.opts.recoveryWindowMs ?? DEFAULT_RECOVERY_WINDOW_MS);
      const found = await this.store.unfinalisedSessions([...owned], since);
      // cleared only once the query answered (a failed one is asked again on the next sweep), and
      // only if no rebalance came meanwhile (`assign` replaces the set; it asks again)
      this.registry.recovered(owned, found, now);
    }
    const due = this.registry.quiet(now, this.opts.timeoutMs);
    for (let i = 0; i < due.length; i += 200) {
      await this.finaliseMany(
        due.slice(i, i + 200).map((s) => s.ref),
        this.reason,
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

  /** One finalisation round (finalise.ts); counts the outcomes and publishes them (diagnostics.ts). */
  async finaliseMany(
    refs: readonly SessionRef[],
    reason: 'late_data' | 'recompute',
    knownAbsent: ReadonlySet<string> = new Set(),
    profiles?: ReadonlyMap<string, AthleteProfile>,
  ): Promise<FinaliseOutcome[]> {
    if (refs.length === 0) return [];
    const outcomes = await finaliseRound(this.round, refs, reason, knownAbsent, profiles);
    for (const o of outcomes) this.stats[o]++;
    if (finalisedChannel.hasSubscribers) {
      finalisedChannel.publish({ sessions: this, outcomes } satisfies FinalisedMessage);
    }
    return outcomes;
  }
}
