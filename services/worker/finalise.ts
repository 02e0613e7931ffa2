import type { ActivityResult, AthleteProfile, ComputeInput } from '../../pipelines/types.js';
import type { SessionControl } from '../../schemas/types.js';
import type { Logger } from '../common/logger.js';
import { eventFor, withSport } from './activity-events.js';
import { activityVersion } from './activity-version.js';
import type { DeletedActivities } from './deleted-activities.js';
import { SinkRejectedError } from './errors.js';
import { isolateRejections } from './isolate-rejections.js';
import type {
  ActivityEvent,
  ActivityWrite,
  EventPublisher,
  SessionRef,
  SessionStore,
  StoredSession,
} from './ports.js';
import { sessionKey } from './records.js';
import type { SessionImages } from './session-images.js';
import type { SessionRegistry } from './session-registry.js';
import { computeColumns } from './stored-samples.js';

export type ComputeActivity = (input: ComputeInput, opts?: { version?: string }) => ActivityResult;

/**
 * Sessions per finalisation round trip (read, insert, publish), rounds one after another. One
 * round per flush as a rule: concurrent rounds each run their own FINAL read over the same parts,
 * which measured twice the ClickHouse CPU per sample (bench/worker-throughput.ts, 300k samples:
 * 4 concurrent chunks 22–29 ms, one 10–12 ms per 1k samples) and no faster on 2 cores.
 */
export const FINALISE_CHUNK = 500;

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

/** What a finalisation round works with (Sessions builds it once). */
export interface FinaliseContext {
  store: SessionStore;
  publisher: EventPublisher;
  compute: ComputeActivity;
  registry: SessionRegistry;
  images: SessionImages;
  opts: {
    algorithmVersion?: string;
    reannounce?: boolean;
    deletedActivities?: DeletedActivities;
    deadLetter?: (failures: readonly FinaliseFailure[]) => Promise<void>;
  };
  logger: Logger;
  now: () => number;
  profiles(refs: readonly SessionRef[]): Promise<Map<string, AthleteProfile>>;
  /** told, before the read, how many sessions take their input from memory and from ClickHouse */
  onInputs(memory: number, clickhouse: number): void;
}

/**
 * One finalisation round over many sessions, with a constant number of round trips: one read of their
 * durable input, one look-up of unknown stored versions, one insert per table, then one Kafka send.
 * `knownAbsent`: sessions the caller just learnt have no activity yet. `profiles`: the athletes'
 * profiles by user id, when the caller already looked them up (else one look-up here). Returns each
 * session's outcome, in `refs` order.
 */
export async function finaliseRound(
  ctx: FinaliseContext,
  refs: readonly SessionRef[],
  reason: 'late_data' | 'recompute',
  knownAbsent: ReadonlySet<string> = new Set(),
  profiles?: ReadonlyMap<string, AthleteProfile>,
): Promise<FinaliseOutcome[]> {
  if (refs.length === 0) return [];
  const deleted = ctx.opts.deletedActivities ? await ctx.opts.deletedActivities(refs) : new Set<string>();
  const inputs = new Map<string, StoredSession>();
  const readBack: SessionRef[] = [];
  for (const ref of refs) {
    const k = sessionKey(ref.deviceId, ref.sessionId);
    const image = ctx.images.take(k);
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
  ctx.onInputs(inputs.size, readBack.length);
  const [read, athletes] = await Promise.all([
    ctx.store.readSessions(readBack),
    profiles ?? ctx.profiles(refs),
  ]);
  for (const [k, v] of read) inputs.set(k, v);
  const unknown = refs.filter((r) => {
    const k = sessionKey(r.deviceId, r.sessionId);
    return !ctx.registry.isFinalised(k) && !knownAbsent.has(k);
  });
  const looked = await ctx.store.activityVersions(unknown);
  ctx.registry.noteStoredIds(looked, unknown);
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
    ctx.registry.closeSession(k);
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
      result = ctx.compute(
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
        ctx.opts.algorithmVersion ? { version: ctx.opts.algorithmVersion } : undefined,
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
    const storedId = ctx.registry.storedId(k);
    const s = storedId === undefined ? result.summary : { ...result.summary, activityId: storedId };
    const version = activityVersion(
      stored.samples.length + stored.controls.length + stored.sets.length + stored.manual.length,
      s.algorithmVersion,
    );
    const known = ctx.registry.version(k);
    const found = known === undefined ? looked.get(k) : undefined;
    const previous = known ?? found?.version;
    // defined: `previous` is stored, but this process never saw its event acknowledged
    const first =
      ctx.opts.reannounce === false
        ? undefined
        : known !== undefined
          ? ctx.registry.unannouncedSince(k)
          : found?.firstVersion;
    if (previous !== undefined && (previous > version || (previous === version && first === undefined))) {
      ctx.registry.remember(k, previous, first);
      outcomes.push('unchanged');
      continue;
    }
    const at = outcomes.length;
    if (previous === version) {
      // Stored by a round whose events may not have gone out (a crash or a Kafka failure after
      // the insert): announce it again; consumers dedupe on (activityId, version).
      const earlier = first! < version ? first : undefined;
      pending.push({ k, ref, version, event: eventFor(s, version, earlier, reason, ctx.now()), at });
      outcomes.push(earlier === undefined ? 'created' : 'updated');
      continue;
    }
    const write = { ref, version, summary: s, clean: result.samples, input: stored.samples };
    pending.push({ k, ref, version, event: eventFor(s, version, previous, reason, ctx.now()), write, at });
    outcomes.push(previous === undefined ? 'created' : 'updated');
  }
  // Rows first, then the events of exactly the sessions whose rows ClickHouse acknowledged: an
  // event never announces a row that is not stored. A crash (or a failed send) after the insert
  // re-does the round (the offsets are committed only after the send): the rows are idempotent,
  // and a stored version this process has not announced is announced again (above).
  const writes = pending.flatMap((p) => (p.write ? [p.write] : []));
  const refused =
    writes.length > 0 ? await writeIsolating(ctx.store, writes) : new Map<ActivityWrite, string>();
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
  if (events.length > 0) await ctx.publisher.publishActivities(events);
  // a session stored but never marked here is recovered and announced after a restart (unfinalisedSessions)
  if (announce.length > 0) {
    await ctx.store.writeAnnouncements(announce.map((p) => ({ ref: p.ref, version: p.version })));
  }
  for (const p of announce) ctx.registry.remember(p.k, p.version);
  if (failures.length > 0) {
    ctx.logger.error(
      { sessions: failures.map((f) => `${f.ref.deviceId}/${f.ref.sessionId}: ${f.error}`) },
      'activity could not be computed or stored; sessions dead-lettered (finalise_failed)',
    );
    // durable before this round resolves, i.e. before the flush's offsets are committed
    await ctx.opts.deadLetter?.(failures);
  }
  if (events.length > 0) {
    ctx.logger.debug({ sessions: refs.length, events: events.length }, 'activities finalised');
  }
  return outcomes;
}

/**
 * Writes activities; when ClickHouse refuses the write for good (SinkRejectedError), isolates the
 * refused sessions (isolate-rejections.ts). Returns those with the server's message (their events
 * are not published). An unavailable ClickHouse throws: the caller retries the whole round.
 */
async function writeIsolating(
  store: SessionStore,
  writes: readonly ActivityWrite[],
): Promise<Map<ActivityWrite, string>> {
  const refused = await isolateRejections(
    writes,
    (ws) => store.writeActivities(ws),
    (err): err is SinkRejectedError => err instanceof SinkRejectedError,
  );
  return new Map(refused.map((r) => [r.item, r.error.message]));
}
