import { activityIdFor } from '../../pipelines/index.js';
import type { ActivityResult, ActivitySummary, AthleteProfile, ComputeInput } from '../../pipelines/types.js';
import type { SessionControl } from '../../schemas/types.js';
import type { Logger } from '../common/logger.js';
import { activityVersion, ROWS_PER_VERSION } from './activity-version.js';
import { noProfiles } from './athletes.js';
import type { DeletedActivities } from './deleted-activities.js';
import { SinkRejectedError } from './errors.js';
import { isolateRejections } from './isolate-rejections.js';
import type {
  ActivityEvent,
  ActivityWrite,
  AthleteProfiles,
  EventPublisher,
  FlushBatch,
  SessionRef,
  SessionStore,
  StoredActivity,
  StoredSession,
} from './ports.js';
import { sessionKey } from './records.js';
import { SessionImages } from './session-images.js';

import { computeColumns } from './stored-samples.js';

export type ComputeActivity = (input: ComputeInput, opts?: { version?: string }) => ActivityResult;

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
}

const DEFAULT_RECOVERY_WINDOW_MS = 7 * 24 * 3600 * 1000;

interface OpenSession {
  ref: SessionRef;
  partition: number;
  lastSeen: number;
}

/**
 * Sessions per finalisation round trip (read, insert, publish), rounds one after another. One
 * round per flush as a rule: concurrent rounds each run their own FINAL read over the same parts,
 * which measured twice the ClickHouse CPU per sample (bench/worker-throughput.ts, 300k samples:
 * 4 concurrent chunks 22–29 ms, one 10–12 ms per 1k samples) and no faster on 2 cores.
 */
const FINALISE_CHUNK = 500;

export type FinaliseOutcome = 'created' | 'updated' | 'unchanged' | 'empty' | 'failed' | 'deleted';

/** A session whose activity could not be computed: what a DLQ record says about it. */
export interface FinaliseFailure {
  ref: SessionRef;
  /** device time of the first and last stored sample (null: none) */
  firstTs: number | null;
  lastTs: number | null;
  samples: number;
  error: string;
}

/**
 * The session registry. Opens a session on its first record; finalises it on an end message, on
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
 */
export class Sessions {
  private readonly open = new Map<string, OpenSession>();
  /** stored activity version per session (announced, unless also in `unannounced`) */
  private readonly versions = new Map<string, number>();
  private readonly unannounced = new Map<string, number>();
  /**
   * Stored activity ids that differ from the one derived now (pipelines' activityIdFor): sessions
   * stored while the id was a digest of (user, session) only keep the id they were announced under.
   */
  private readonly storedIds = new Map<string, string>();
  private owned = new Set<number>();
  private recoverPending = false;
  private readonly now: () => number;
  readonly stats = { created: 0, updated: 0, unchanged: 0, empty: 0, failed: 0, deleted: 0 };
  /** where finalisations took their input from */
  readonly inputs = { memory: 0, clickhouse: 0 };
  readonly images: SessionImages;
  onOutcome: (o: FinaliseOutcome) => void = () => {};
  onInputs: (source: 'memory' | 'clickhouse', sessions: number) => void = () => {};

  constructor(
    private readonly store: SessionStore,
    private readonly publisher: EventPublisher,
    private readonly compute: ComputeActivity,
    private readonly opts: SessionsOptions,
    private readonly logger: Logger,
  ) {
    this.now = opts.now ?? Date.now;
    this.images = new SessionImages(opts.imageBytes ?? 0);
  }

  get openCount(): number {
    return this.open.size;
  }

  /** After a rebalance: sessions of newly owned partitions are recovered on the next sweep. */
  assign(partitions: readonly number[]): void {
    this.owned = new Set(partitions);
    for (const [k, s] of this.open) if (!this.owned.has(s.partition)) this.open.delete(k);
    this.images.retain(this.owned);
    this.recoverPending = true;
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
      if (this.versions.has(k)) {
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
   * `firstVersion`: the version was learnt from ClickHouse, not announced by this process (its
   * lowest stored version, which tells a re-announcement Created from Updated).
   */
  private remember(k: string, version: number, firstVersion?: number): void {
    this.versions.delete(k);
    this.versions.set(k, version);
    if (firstVersion === undefined) this.unannounced.delete(k);
    else this.unannounced.set(k, firstVersion);
    const max = this.opts.cacheSize ?? 100_000;
    if (this.versions.size > max) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) {
        this.versions.delete(oldest);
        this.unannounced.delete(oldest);
        this.storedIds.delete(oldest);
      }
    }
  }

  /** Notes the id a session's activity is stored under when it is not the derived one. */
  private noteStoredIds(stored: ReadonlyMap<string, StoredActivity>, refs: readonly SessionRef[]): void {
    for (const ref of refs) {
      const k = sessionKey(ref.deviceId, ref.sessionId);
      const a = stored.get(k);
      if (a && a.activityId !== activityIdFor(ref.userId, ref.deviceId, ref.sessionId)) {
        this.storedIds.set(k, a.activityId);
      }
    }
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
      .filter(([k]) => !this.open.has(k) && !this.versions.has(k))
      .map(([, t]) => t.ref);
    const stored = await this.store.activityVersions(unknown);
    for (const [k, a] of stored) this.remember(k, a.version, a.firstVersion);
    this.noteStoredIds(stored, unknown);
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
      const owned = this.owned;
      // seen_ms is the sink's wall clock, so the window is too (not the injectable `now`)
      const since = Date.now() - (this.opts.recoveryWindowMs ?? DEFAULT_RECOVERY_WINDOW_MS);
      const found = await this.store.unfinalisedSessions([...owned], since);
      // cleared only once the query answered (a failed one is asked again on the next sweep), and
      // only if no rebalance came meanwhile (`assign` replaces the set; it asks again)
      if (this.owned === owned) this.recoverPending = false;
      for (const s of found) {
        if (!this.owned.has(s.partition)) continue;
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
   * input, one look-up of unknown stored versions, one insert per table, then one Kafka send.
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
    const deleted = this.opts.deletedActivities ? await this.opts.deletedActivities(refs) : new Set<string>();
    const inputs = new Map<string, StoredSession>();
    const readBack: SessionRef[] = [];
    for (const ref of refs) {
      const k = sessionKey(ref.deviceId, ref.sessionId);
      const image = this.images.take(k);
      if (deleted.has(k)) continue;
      if (!image) {
        readBack.push(ref);
        continue;
      }
      inputs.set(k, {
        samples: image.samples,
        controls: image.controls.map((c) => ({
          userId: ref.userId,
          deviceId: ref.deviceId,
          sessionId: ref.sessionId,
          kind: c.kind,
          sport: c.sport as SessionControl['sport'],
          ts: c.ts,
          receivedAt: 0,
        })),
        sets: [],
        manual: [],
      });
    }
    this.inputs.memory += inputs.size;
    this.inputs.clickhouse += readBack.length;
    if (inputs.size > 0) this.onInputs('memory', inputs.size);
    if (readBack.length > 0) this.onInputs('clickhouse', readBack.length);
    const [read, athletes] = await Promise.all([
      this.store.readSessions(readBack),
      profiles ?? this.profiles(refs),
    ]);
    for (const [k, v] of read) inputs.set(k, v);
    const unknown = refs.filter((r) => {
      const k = sessionKey(r.deviceId, r.sessionId);
      return !this.versions.has(k) && !knownAbsent.has(k);
    });
    const looked = await this.store.activityVersions(unknown);
    this.noteStoredIds(looked, unknown);
    const outcomes: FinaliseOutcome[] = [];
    // per session to announce: its event, and the rows to store first (none: stored already)
    const pending: {
      k: string;
      ref: SessionRef;
      version: number;
      event: ActivityEvent;
      write?: ActivityWrite;
      at: number;
    }[] = [];
    const failures: FinaliseFailure[] = [];
    for (const asSent of refs) {
      const k = sessionKey(asSent.deviceId, asSent.sessionId);
      this.open.delete(k);
      if (deleted.has(k)) {
        outcomes.push('deleted');
        continue;
      }
      const stored = inputs.get(k)!;
      const ref = withSport(asSent, stored.controls);
      if (stored.samples.length === 0 && stored.sets.length === 0 && stored.manual.length === 0) {
        // An end (or start) without any data: nothing to compute. Late samples re-open it.
        outcomes.push('empty');
        continue;
      }
      let result: ActivityResult;
      try {
        result = this.compute(
          {
            userId: ref.userId,
            deviceId: ref.deviceId,
            sessionId: ref.sessionId,
            sport: ref.sport as ComputeInput['sport'],
            samples: computeColumns(stored.samples),
            controls: stored.controls,
            sets: stored.sets,
            manual: stored.manual,
            athlete: athletes.get(ref.userId) ?? {},
          },
          this.opts.algorithmVersion ? { version: this.opts.algorithmVersion } : undefined,
        );
      } catch (err) {
        // one session's data (or a bug it triggers) must not hold back the others: set it aside
        const n = stored.samples.length;
        failures.push({
          ref,
          firstTs: n > 0 ? stored.samples.ts[0]! : null,
          lastTs: n > 0 ? stored.samples.ts[n - 1]! : null,
          samples: n,
          error: err instanceof Error ? err.message : String(err),
        });
        outcomes.push('failed');
        continue;
      }
      const storedId = this.storedIds.get(k);
      const s = storedId === undefined ? result.summary : { ...result.summary, activityId: storedId };
      const version = activityVersion(
        stored.samples.length + stored.controls.length + stored.sets.length + stored.manual.length,
        s.algorithmVersion,
      );
      const known = this.versions.get(k);
      const found = known === undefined ? looked.get(k) : undefined;
      const previous = known ?? found?.version;
      // defined: `previous` is stored, but this process never saw its event acknowledged
      const first =
        this.opts.reannounce === false
          ? undefined
          : known !== undefined
            ? this.unannounced.get(k)
            : found?.firstVersion;
      if (previous !== undefined && (previous > version || (previous === version && first === undefined))) {
        this.remember(k, previous, first);
        outcomes.push('unchanged');
        continue;
      }
      const at = outcomes.length;
      if (previous === version) {
        // Stored by a round whose events may not have gone out (a crash or a Kafka failure after
        // the insert): announce it again; consumers dedupe on (activityId, version).
        const earlier = first! < version ? first : undefined;
        pending.push({ k, ref, version, event: eventFor(s, version, earlier, reason, this.now()), at });
        outcomes.push(earlier === undefined ? 'created' : 'updated');
        continue;
      }
      const write = { ref, version, summary: s, clean: result.samples, input: stored.samples };
      pending.push({ k, ref, version, event: eventFor(s, version, previous, reason, this.now()), write, at });
      outcomes.push(previous === undefined ? 'created' : 'updated');
    }
    // Rows first, then the events of exactly the sessions whose rows ClickHouse acknowledged: an
    // event never announces a row that is not stored. A crash (or a failed send) after the insert
    // re-does the round (the offsets are committed only after the send): the rows are idempotent,
    // and a stored version this process has not announced is announced again (above).
    const writes = pending.flatMap((p) => (p.write ? [p.write] : []));
    const refused = writes.length > 0 ? await this.writeIsolating(writes) : new Map<ActivityWrite, string>();
    for (const [w, error] of refused) {
      const n = w.input.length;
      failures.push({
        ref: w.ref,
        firstTs: n > 0 ? w.input.ts[0]! : null,
        lastTs: n > 0 ? w.input.ts[n - 1]! : null,
        samples: n,
        error,
      });
    }
    const announce = pending.filter((p) => !(p.write && refused.has(p.write)));
    for (const p of pending) if (p.write && refused.has(p.write)) outcomes[p.at] = 'failed';
    const events = announce.map((p) => p.event);
    if (events.length > 0) await this.publisher.publishActivities(events);
    // a session stored but never marked here is recovered and announced after a restart (unfinalisedSessions)
    if (announce.length > 0) {
      await this.store.writeAnnouncements(announce.map((p) => ({ ref: p.ref, version: p.version })));
    }
    for (const p of announce) this.remember(p.k, p.version);
    if (failures.length > 0) {
      this.logger.error(
        { sessions: failures.map((f) => `${f.ref.deviceId}/${f.ref.sessionId}: ${f.error}`) },
        'activity could not be computed or stored; sessions dead-lettered (finalise_failed)',
      );
      // durable before this round resolves, i.e. before the flush's offsets are committed
      await this.opts.deadLetter?.(failures);
    }
    if (events.length > 0) {
      this.logger.debug({ sessions: refs.length, events: events.length }, 'activities finalised');
    }
    for (const o of outcomes) {
      this.stats[o]++;
      this.onOutcome(o);
    }
    return outcomes;
  }

  /**
   * Writes activities; when ClickHouse refuses the write for good (SinkRejectedError), isolates the
   * refused sessions (isolate-rejections.ts). Returns those with the server's message (their events
   * are not published). An unavailable ClickHouse throws: the caller retries the whole round.
   */
  private async writeIsolating(writes: readonly ActivityWrite[]): Promise<Map<ActivityWrite, string>> {
    const refused = await isolateRejections(
      writes,
      (ws) => this.store.writeActivities(ws),
      (err): err is SinkRejectedError => err instanceof SinkRejectedError,
    );
    return new Map(refused.map((r) => [r.item, r.error.message]));
  }
}

/**
 * The session as the sport its athlete chose last (a `sport` control, sent by the API when the athlete
 * changes the activity's type), else as its records name it: every row and event of the version follows it.
 */
function withSport(ref: SessionRef, controls: readonly SessionControl[]): SessionRef {
  let last: SessionControl | undefined;
  for (const c of controls) if (c.kind === 'sport' && (!last || c.ts >= last.ts)) last = c;
  return last && last.sport !== ref.sport ? { ...ref, sport: last.sport } : ref;
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
