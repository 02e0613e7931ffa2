// Points and the leaderboards built on them (docs/points.md).
//
// PostgreSQL holds the rules (`points_rules`, one row per published version, never edited) and, per
// ClickHouse database that holds points (`store`), the version readers use (`points_current`). ClickHouse
// holds the points (`activity_points`, one row per version and activity, latest `computed_at` wins). A
// new version is computed over all of history with one INSERT ... SELECT from `activities`, and only then
// does `points_current` flip: readers see the old version until the new one is complete, and all of them
// switch at once. The activities.v1 consumer (`PointsConsumer`) rewrites the rows of the athletes whose
// activities changed, in every version in use (the current one and any newer one being computed), so a
// new activity is on the boards within a consumer poll and a deleted one leaves them.
//
// `computed_at` is taken BEFORE the rows it stamps are read: of two writes of one activity, the one that
// read the later state of `activities` always carries the later stamp and wins (one clock: the API
// replicas' clocks are assumed within a few ms of each other).

import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { Consumer, Kafka } from 'kafkajs';
import type pg from 'pg';
import { Counter, type Registry } from 'prom-client';
import type { PointsRules } from '../../pipelines/points/rules.js';
import { float, ident, int, str } from '../common/clickhouse-sql.js';
import { runAthleteBatches } from './athlete-batches.js';
import { pgCall } from './athlete-clock.js';
import { ApiError } from './errors.js';
import { claimIdempotencyKey, recordIdempotentResult } from './idempotency.js';

export const POINTS_REFRESHES_METRIC = 'fitstream_api_points_athletes_refreshed_total';

export const pointsKeys = {
  /** bumped after every write of points in `store`: every cached board of an older generation is dead */
  generation: (store: string) => `fitstream:points:gen:${store}`,
  board: (store: string, generation: string, key: string) =>
    `fitstream:points:board:${store}:${generation}:${key}`,
  /** pub/sub: JSON `{ users: string[] | null }` after points of those athletes (null: all) changed */
  changed: (store: string) => `fitstream:points:changed:${store}`,
};

/** How long a cached board may live; the generation is what keeps it fresh. */
const BOARD_TTL_S = 600;
const DAY_MS = 86_400_000;

/**
 * The points of one activity under `rules` as one ClickHouse expression over `sport`, `distance_m` and
 * `moving_s`: the same arithmetic, in the same order, as pipelines/points/rules.ts `activityPoints`
 * (points-store.int.test.ts compares the two on 18.16).
 */
export function pointsSql(rules: PointsRules): string {
  const branches: string[] = [];
  for (const r of rules.sports) {
    const raw = `((${float(r.per_activity)} + ((${float(r.per_km)} * distance_m) / 1000)) + ((${float(r.per_minute)} * moving_s) / 60))`;
    const capped = r.max_points === undefined ? raw : `least(${float(r.max_points)}, ${raw})`;
    branches.push(
      `sport = ${str(r.sport)}`,
      `if(distance_m >= ${float(r.min_distance_m)} AND moving_s >= ${float(r.min_moving_s)}, toFloat64(${capped}), toFloat64(0))`,
    );
  }
  return branches.length === 0 ? 'toFloat64(0)' : `multiIf(${branches.join(', ')}, toFloat64(0))`;
}

export interface RulesVersion {
  version: number;
  rules: PointsRules;
  note: string;
  published_by: string | null;
  published_at: string;
}

export interface Recomputed {
  version: number;
  activities: number;
  duration_ms: number;
}

/** One row of points summed per athlete and sport over a time range. */
export interface PointsSum {
  user_id: string;
  sport: string;
  points: number;
  distance_m: number;
  activities: number;
}

export class PointsStore {
  private readonly db: string;
  private readonly refreshes: Counter | null;
  /** cached(): computations in progress, by cache key */
  private readonly computing = new Map<string, Promise<unknown>>();
  /** cached(): values read or computed lately, parsed and frozen, by cache key (generation included), LRU */
  private readonly recent = new Map<string, { value: unknown; until: number }>();

  constructor(
    private readonly pg: pg.Pool,
    private readonly clickhouse: ClickHouseClient,
    /** the ClickHouse database that holds `activities` and `activity_points`; also the `store` in PG */
    readonly store: string,
    private readonly redis: Redis,
    registry?: Registry,
  ) {
    this.db = ident(store);
    this.refreshes = registry
      ? new Counter({
          name: POINTS_REFRESHES_METRIC,
          help: 'Athletes whose points were rewritten after an activities.v1 record (what tests wait on)',
          registers: [registry],
        })
      : null;
  }

  /** athletes refreshed so far (what tests wait on) */
  async refreshed(): Promise<number> {
    return (await this.refreshes?.get())?.values[0]?.value ?? 0;
  }

  private async ch(query: string): Promise<void> {
    try {
      await this.clickhouse.command({ query });
    } catch (err) {
      throw new ApiError('dependency_unavailable', 'ClickHouse did not answer', { cause: err });
    }
  }

  private async rows<T>(query: string): Promise<T[]> {
    try {
      const rs = await this.clickhouse.query({ query, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw new ApiError('dependency_unavailable', 'ClickHouse did not answer', { cause: err });
    }
  }

  async versions(): Promise<RulesVersion[]> {
    const r = await pgCall(() =>
      this.pg.query<RulesVersion & { published_at: Date }>(
        'SELECT version, rules, note, published_by, published_at FROM points_rules ORDER BY version DESC',
      ),
    );
    return r.rows.map((x) => ({ ...x, published_at: x.published_at.toISOString() }));
  }

  async rulesOf(version: number): Promise<PointsRules> {
    const r = await pgCall(() =>
      this.pg.query<{ rules: PointsRules }>('SELECT rules FROM points_rules WHERE version = $1', [version]),
    );
    if (!r.rows[0]) throw new Error(`no points rules version ${version}`);
    return r.rows[0].rules;
  }

  /** The version readers use in this store and what its recompute took; null before the first one. */
  async current(): Promise<(Recomputed & { completed_at: string }) | null> {
    const r = await pgCall(() =>
      this.pg.query<{ version: number; activities: string; duration_ms: number; completed_at: Date }>(
        'SELECT version, activities, duration_ms, completed_at FROM points_current WHERE store = $1',
        [this.store],
      ),
    );
    const row = r.rows[0];
    return row
      ? {
          version: row.version,
          activities: Number(row.activities),
          duration_ms: row.duration_ms,
          completed_at: row.completed_at.toISOString(),
        }
      : null;
  }

  /** The current version or 503: before the first recompute of a store there are no points to rank. */
  async requireCurrent(): Promise<number> {
    const c = await this.current();
    if (!c) throw new ApiError('dependency_unavailable', 'points are being computed for the first time');
    return c.version;
  }

  /**
   * Publishes `rules` as the next version (the recompute follows: `catchUp`). With an idempotency key, a
   * retry with the same key and body gets the version the first request published.
   */
  async publish(
    rules: PointsRules,
    note: string,
    by: string,
    idempotency?: { scope: string; key: string; body: unknown },
  ): Promise<RulesVersion> {
    const c = await pgCall(() => this.pg.connect());
    try {
      await c.query('BEGIN');
      const earlier = idempotency
        ? await claimIdempotencyKey(c, idempotency.scope, idempotency.key, idempotency.body)
        : null;
      let row: RulesVersion & { published_at: Date };
      if (earlier) {
        const r = await c.query<RulesVersion & { published_at: Date }>(
          'SELECT version, rules, note, published_by, published_at FROM points_rules WHERE version = $1',
          [Number(earlier)],
        );
        row = r.rows[0]!;
      } else {
        // one publisher at a time: versions are consecutive
        await c.query('LOCK TABLE points_rules IN SHARE ROW EXCLUSIVE MODE');
        const r = await c.query<RulesVersion & { published_at: Date }>(
          `INSERT INTO points_rules (version, rules, note, published_by)
           SELECT coalesce(max(version), 0) + 1, $1, $2, $3 FROM points_rules
           RETURNING version, rules, note, published_by, published_at`,
          [JSON.stringify(rules), note, by],
        );
        row = r.rows[0]!;
        if (idempotency)
          await recordIdempotentResult(c, idempotency.scope, idempotency.key, 201, String(row.version));
      }
      await c.query('COMMIT');
      return { ...row, published_at: row.published_at.toISOString() };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** The versions whose rows must follow every change of an activity: the current one and any newer. */
  private async versionsInUse(): Promise<number[]> {
    const r = await pgCall(() =>
      this.pg.query<{ version: number }>(
        `SELECT version FROM points_rules
         WHERE version >= coalesce((SELECT version FROM points_current WHERE store = $1), 0)
         ORDER BY version`,
        [this.store],
      ),
    );
    return r.rows.map((x) => x.version);
  }

  /**
   * Activities deleted in PostgreSQL whose ClickHouse rows may still be there (`deleted_activities`, the
   * tombstones of DELETE /v1/activities/{id}, where that table exists): they score nothing.
   */
  private async pendingDeletions(userIds?: readonly string[]): Promise<string[]> {
    if (!(await this.hasDeletedActivities())) return [];
    const q = await pgCall(() =>
      this.pg.query<{ activity_id: string }>(
        userIds
          ? 'SELECT activity_id FROM deleted_activities WHERE purged_at IS NULL AND user_id = ANY($1::uuid[])'
          : 'SELECT activity_id FROM deleted_activities WHERE purged_at IS NULL',
        userIds ? [userIds] : [],
      ),
    );
    return q.rows.map((x) => x.activity_id);
  }

  private async hasDeletedActivities(): Promise<boolean> {
    const r = await pgCall(() =>
      this.pg.query<{ t: string | null }>(`SELECT to_regclass('deleted_activities')::text AS t`),
    );
    return r.rows[0]?.t !== null && r.rows[0]?.t !== undefined;
  }

  /** `activities` as the points see them: the latest version of each, minus pending deletions. */
  private liveActivities(where: string, deleted: readonly string[]): string {
    const notDeleted = deleted.length ? ` AND activity_id NOT IN (${deleted.map(str).join(', ')})` : '';
    return `SELECT user_id, activity_id, sport, start_ts, distance_m, moving_s
            FROM ${this.db}.activities FINAL WHERE ${where}${notDeleted}`;
  }

  /**
   * Computes every activity under `version` and flips `points_current` to it, unless another replica is
   * at it (a PostgreSQL advisory lock per store). Returns what it did, or null when it did nothing.
   */
  async recompute(version: number): Promise<Recomputed | null> {
    const lock = await pgCall(() => this.pg.connect());
    try {
      const got = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
        `points:${this.store}`,
      ]);
      if (!got.rows[0]?.ok) return null;
      try {
        const current = await this.current();
        if (current && current.version >= version) return null;
        const t0 = Date.now();
        const rules = await this.rulesOf(version);
        const deleted = await this.pendingDeletions();
        await this.ch(
          `INSERT INTO ${this.db}.activity_points
             (rules_version, user_id, activity_id, sport, start_ts, distance_m, moving_s, points, deleted, computed_at)
           SELECT ${int(version)}, user_id, activity_id, sport, start_ts, distance_m, moving_s, ${pointsSql(rules)}, 0, ${int(t0)}
           FROM (${this.liveActivities('1', deleted)})`,
        );
        const [counted] = await this.rows<{ n: string }>(
          `SELECT count() AS n FROM ${this.db}.activity_points WHERE rules_version = ${int(version)} AND computed_at = ${int(t0)}`,
        );
        const activities = Number(counted?.n ?? 0);
        const durationMs = Date.now() - t0;
        await pgCall(() =>
          this.pg.query(
            `INSERT INTO points_current (store, version, activities, duration_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (store) DO UPDATE SET version = EXCLUDED.version, activities = EXCLUDED.activities,
               duration_ms = EXCLUDED.duration_ms, completed_at = now()
             WHERE points_current.version < EXCLUDED.version`,
            [this.store, version, activities, durationMs],
          ),
        );
        await this.announce(null);
        await this.dropOldVersions(version);
        return { version, activities, duration_ms: durationMs };
      } finally {
        await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [`points:${this.store}`]).catch(() => {});
      }
    } finally {
      lock.release();
    }
  }

  /** Recomputes the latest published version if this store does not serve it yet. */
  async catchUp(): Promise<Recomputed | null> {
    const r = await pgCall(() =>
      this.pg.query<{ v: number | null }>('SELECT max(version) AS v FROM points_rules'),
    );
    const latest = r.rows[0]?.v;
    if (!latest) return null;
    const current = await this.current();
    if (current && current.version >= latest) return null;
    return this.recompute(latest);
  }

  /**
   * Versions older than the one before `current` go (one DROP PARTITION each); the previous one stays a
   * while for readers that read the pointer just before the flip.
   */
  private async dropOldVersions(current: number): Promise<void> {
    const parts = await this.rows<{ partition: string }>(
      `SELECT DISTINCT partition FROM system.parts
       WHERE database = ${str(this.store)} AND table = 'activity_points' AND active`,
    );
    for (const p of parts) {
      const v = Number(p.partition.replace(/'/g, ''));
      if (Number.isInteger(v) && v < current - 1)
        await this.ch(`ALTER TABLE ${this.db}.activity_points DROP PARTITION ${int(v)}`);
    }
  }

  /**
   * Rewrites the points of `userIds` in every version in use from their activities now: a row per live
   * activity, and a deletion row for each activity that has points but is gone. Idempotent: the same
   * state written twice gives the same rows.
   */
  async refreshUsers(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const t0 = Date.now();
    const deleted = await this.pendingDeletions(userIds);
    const users = `user_id IN (${userIds.map(str).join(', ')})`;
    const live = this.liveActivities(users, deleted);
    for (const version of await this.versionsInUse()) {
      const rules = await this.rulesOf(version);
      await this.ch(
        `INSERT INTO ${this.db}.activity_points
           (rules_version, user_id, activity_id, sport, start_ts, distance_m, moving_s, points, deleted, computed_at)
         SELECT ${int(version)}, user_id, activity_id, sport, start_ts, distance_m, moving_s, ${pointsSql(rules)}, 0, ${int(t0)}
         FROM (${live})`,
      );
      await this.ch(
        `INSERT INTO ${this.db}.activity_points
           (rules_version, user_id, activity_id, sport, start_ts, distance_m, moving_s, points, deleted, computed_at)
         SELECT ${int(version)}, user_id, activity_id, any(sport), any(start_ts), 0, 0, 0, 1, ${int(t0)}
         FROM ${this.db}.activity_points
         WHERE rules_version = ${int(version)} AND ${users} AND computed_at < ${int(t0)}
           AND activity_id NOT IN (SELECT activity_id FROM (${live}))
         GROUP BY user_id, activity_id
         HAVING argMax(deleted, computed_at) = 0`,
      );
    }
    this.refreshes?.inc(userIds.length);
    await this.announce(userIds);
  }

  /** Kills every cached board of this store and tells the open streams whose points moved. */
  private async announce(users: readonly string[] | null): Promise<void> {
    await this.redis.incr(pointsKeys.generation(this.store));
    await this.redis.publish(pointsKeys.changed(this.store), JSON.stringify({ users }));
  }

  /**
   * Points, distance and count per athlete and sport of the activities that start in [fromMs, toMs),
   * of `userIds` (null: everyone), under `version`. argMax, not FINAL: filters on columns that can change
   * between rows of one activity (deleted) must apply after the latest row is chosen. The inner range is
   * a day wider than asked, so an activity whose start moved (a late first sample) is judged by its
   * latest start.
   */
  async sums(
    version: number,
    fromMs: number,
    toMs: number,
    userIds: readonly string[] | null,
    sport?: string,
  ): Promise<PointsSum[]> {
    if (userIds && userIds.length === 0) return [];
    const users = userIds ? ` AND user_id IN (${userIds.map(str).join(', ')})` : '';
    const rows = await this.rows<{
      user_id: string;
      sport: string;
      points: number;
      distance_m: number;
      activities: string;
    }>(
      `SELECT user_id, sp AS sport, sum(p) AS points, sum(d) AS distance_m, count() AS activities FROM (
         SELECT user_id, activity_id, argMax(points, computed_at) AS p, argMax(distance_m, computed_at) AS d,
           argMax(start_ts, computed_at) AS ts, argMax(sport, computed_at) AS sp, argMax(deleted, computed_at) AS del
         FROM ${this.db}.activity_points
         WHERE rules_version = ${int(version)}${users}
           AND start_ts >= ${int(fromMs - DAY_MS)} AND start_ts < ${int(toMs + DAY_MS)}
         GROUP BY user_id, activity_id
       ) WHERE del = 0 AND ts >= ${int(fromMs)} AND ts < ${int(toMs)}${sport ? ` AND sp = ${str(sport)}` : ''}
       GROUP BY user_id, sp`,
    );
    return rows.map((r) => ({
      user_id: r.user_id,
      sport: r.sport,
      points: Number(r.points),
      distance_m: Number(r.distance_m),
      activities: Number(r.activities),
    }));
  }

  /**
   * A value cached under this store's points generation (Redis away: computed each time). Concurrent misses
   * of one key in this process share one computation: when a board's entry expired under 50 req/s, every
   * request in the meantime ran its own aggregation over a million rows (p99 1.4 s in bench/api/http.ts).
   * A request after a generation bump asks under the new key, so it never joins an older computation.
   * The generation is read from Redis on every call; the value of a key this process read or computed
   * lately is kept here (RECENT_MAX keys, frozen: callers share it), which saves the GET of the value and
   * its JSON.parse — a group board's sums were most of a board request's CPU (bench/results/api-http.md).
   */
  async cached<T>(parts: readonly unknown[], compute: () => Promise<T>): Promise<T> {
    const hash = createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
    let key: string | null = null;
    try {
      const generation = (await this.redis.get(pointsKeys.generation(this.store))) ?? '0';
      key = pointsKeys.board(this.store, generation, hash);
      const kept = this.recent.get(key);
      if (kept && kept.until > Date.now()) {
        this.recent.delete(key);
        this.recent.set(key, kept);
        return kept.value as T;
      }
      const hit = await this.redis.get(key);
      if (hit !== null) return this.remember(key, JSON.parse(hit) as T);
    } catch {
      key = null;
    }
    if (key === null) return compute();
    const running = this.computing.get(key);
    if (running) return running as Promise<T>;
    const k = key;
    const p = (async () => {
      const value = await compute();
      await this.redis.set(k, JSON.stringify(value), 'EX', BOARD_TTL_S).catch(() => {});
      return this.remember(k, value);
    })();
    this.computing.set(k, p);
    try {
      return await p;
    } finally {
      this.computing.delete(k);
    }
  }

  private remember<T>(key: string, value: T): T {
    deepFreeze(value);
    this.recent.delete(key);
    this.recent.set(key, { value, until: Date.now() + BOARD_TTL_S * 1000 });
    for (const oldest of this.recent.keys()) {
      if (this.recent.size <= RECENT_MAX) break;
      this.recent.delete(oldest);
    }
    return value;
  }
}

/** Values cached in the process by PointsStore.cached: a group board's sums are ~200 rows. */
const RECENT_MAX = 256;

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}

/**
 * The consumer group on activities.v1 that keeps points in step with activities. Like the stats
 * invalidator it reads only the record keys (the userId): any record — created, updated, deleted —
 * rewrites that athlete's points from `activities` as they are now, so it needs no schema registry and
 * a re-delivery rewrites the same rows. Offsets are committed after the rows are written. Between
 * batches it also catches up on a published version this store does not serve yet.
 */
export class PointsConsumer {
  private consumer: Consumer | null = null;
  private catchUpTimer: NodeJS.Timeout | null = null;
  private catchingUp: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly points: PointsStore,
    private readonly opts: {
      topic: string;
      groupId: string;
      catchUpMs?: number;
      onError?: (err: unknown) => void;
    },
  ) {}

  /** Runs `catchUp` now and every `catchUpMs` (a publish on any replica, a crash mid-recompute). */
  private scheduleCatchUp(): void {
    const run = () => {
      this.catchingUp = this.points.catchUp().catch((err) => this.opts.onError?.(err));
      return this.catchingUp;
    };
    void run();
    this.catchUpTimer = setInterval(() => void run(), this.opts.catchUpMs ?? 5000);
  }

  async start(): Promise<void> {
    // offsets are committed after the rows are written (runAthleteBatches)
    this.consumer = await runAthleteBatches(this.kafka, this.opts, async (users) => {
      for (let i = 0; i < users.length; i += 500) await this.points.refreshUsers(users.slice(i, i + 500));
    });
    this.scheduleCatchUp();
  }

  async stop(): Promise<void> {
    if (this.catchUpTimer) clearInterval(this.catchUpTimer);
    this.catchUpTimer = null;
    await this.catchingUp;
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}
