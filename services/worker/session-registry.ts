import { activityIdFor } from '../../pipelines/index.js';
import type { SessionRef, StoredActivity } from './ports.js';
import { sessionKey } from './records.js';

export interface OpenSession {
  ref: SessionRef;
  partition: number;
  lastSeen: number;
}

/**
 * The open-session registry: what this process knows of its sessions between flushes, by sessionKey.
 * - open sessions: seen, not finalised since, with the time of their last record (the sweep finalises
 *   those quiet for the timeout);
 * - the activity version stored for each finalised session (announced by this process, unless it was
 *   learnt from ClickHouse: then also its lowest stored version), a bounded LRU (`cacheSize`; the rest
 *   are asked from ClickHouse again);
 * - stored activity ids that differ from the one derived now (pipelines' activityIdFor): sessions
 *   stored while the id was a digest of (user, session) only keep the id they were announced under;
 * - the partitions this process owns, and whether their open sessions are still to be recovered.
 */
export class SessionRegistry {
  private readonly open = new Map<string, OpenSession>();
  private readonly versions = new Map<string, number>();
  private readonly unannounced = new Map<string, number>();
  private readonly storedIds = new Map<string, string>();
  private ownedSet = new Set<number>();
  private recoverPending = false;

  constructor(private readonly cacheSize = 100_000) {}

  get openCount(): number {
    return this.open.size;
  }

  /** The partitions owned since the last assign (a new Set per assign: callers compare identity). */
  get owned(): ReadonlySet<number> {
    return this.ownedSet;
  }

  /** After a rebalance: forgets the open sessions of partitions no longer owned; recovery is due. */
  assign(partitions: readonly number[]): void {
    this.ownedSet = new Set(partitions);
    for (const [k, s] of this.open) if (!this.ownedSet.has(s.partition)) this.open.delete(k);
    this.recoverPending = true;
  }

  /** The owned partitions whose open sessions are to be recovered, or null (none pending). */
  recoveryDue(): ReadonlySet<number> | null {
    return this.recoverPending ? this.ownedSet : null;
  }

  /**
   * Recovery of `owned` answered with `found`: they are open (unless open already, or of a partition
   * lost meanwhile). Pending stays set if a rebalance came meanwhile (`assign` asks again).
   */
  recovered(
    owned: ReadonlySet<number>,
    found: readonly (SessionRef & { partition: number })[],
    now: number,
  ): void {
    if (this.ownedSet === owned) this.recoverPending = false;
    for (const s of found) {
      if (!this.ownedSet.has(s.partition)) continue;
      const k = sessionKey(s.deviceId, s.sessionId);
      if (!this.open.has(k)) this.open.set(k, { ref: s, partition: s.partition, lastSeen: now });
    }
  }

  isOpen(k: string): boolean {
    return this.open.has(k);
  }

  /** A record of the session arrived (opens it, or moves its last-seen time). */
  touch(k: string, ref: SessionRef, partition: number, now: number): void {
    this.open.set(k, { ref, partition, lastSeen: now });
  }

  /** The session is being finalised: no longer open. */
  closeSession(k: string): void {
    this.open.delete(k);
  }

  /** Open sessions without a record for `timeoutMs`. */
  quiet(now: number, timeoutMs: number): OpenSession[] {
    return [...this.open.values()].filter((s) => now - s.lastSeen >= timeoutMs);
  }

  /** Whether a stored version of the session is known here (it was finalised). */
  isFinalised(k: string): boolean {
    return this.versions.has(k);
  }

  version(k: string): number | undefined {
    return this.versions.get(k);
  }

  /** The lowest stored version of a session whose version was learnt from ClickHouse, not announced here. */
  unannouncedSince(k: string): number | undefined {
    return this.unannounced.get(k);
  }

  /** The id the session's activity is stored under, when it is not the derived one. */
  storedId(k: string): string | undefined {
    return this.storedIds.get(k);
  }

  /**
   * `firstVersion`: the version was learnt from ClickHouse, not announced by this process (its
   * lowest stored version, which tells a re-announcement Created from Updated).
   */
  remember(k: string, version: number, firstVersion?: number): void {
    this.versions.delete(k);
    this.versions.set(k, version);
    if (firstVersion === undefined) this.unannounced.delete(k);
    else this.unannounced.set(k, firstVersion);
    if (this.versions.size > this.cacheSize) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) {
        this.versions.delete(oldest);
        this.unannounced.delete(oldest);
        this.storedIds.delete(oldest);
      }
    }
  }

  /** Notes the id a session's activity is stored under when it is not the derived one. */
  noteStoredIds(stored: ReadonlyMap<string, StoredActivity>, refs: readonly SessionRef[]): void {
    for (const ref of refs) {
      const k = sessionKey(ref.deviceId, ref.sessionId);
      const a = stored.get(k);
      if (a && a.activityId !== activityIdFor(ref.userId, ref.deviceId, ref.sessionId)) {
        this.storedIds.set(k, a.activityId);
      }
    }
  }
}
