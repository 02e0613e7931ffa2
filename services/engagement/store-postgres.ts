// The engagement read model in PostgreSQL. One transaction per batch of activity events: take the
// athletes' locks, fold the events into engagement_activities (highest (version, deleted) wins),
// recompute every athlete whose activities changed (model.ts), store their goal periods, streaks and
// challenge progress, and append the facts to the outbox, all or nothing. A redelivered batch finds
// nothing to change and adds no fact (the outbox is unique on the fact's key).
import type pg from 'pg';
import { type ActivityFacts, supersedes } from '../../pipelines/engagement/activities.js';
import { transition } from '../../pipelines/engagement/challenges.js';
import type { GoalDefinition, GoalType } from '../../pipelines/engagement/goals.js';
import { type Day, isTimeZone, localDay } from '../../pipelines/engagement/local-days.js';
import type { PeriodKind } from '../../pipelines/engagement/periods.js';
import type { StreakRules } from '../../pipelines/engagement/streaks.js';
import { EngagementError } from './errors.js';
import {
  type ChallengeDef,
  type Fact,
  type LiveActivity,
  type ParticipantRow,
  recomputeUser,
  type StoredGoalPeriod,
} from './model.js';

/** One activity event as the store needs it: a deletion has no facts. */
export interface ActivityEventIn {
  activityId: string;
  userId: string;
  version: number;
  deleted: boolean;
  facts: Omit<ActivityFacts, 'day'> | null;
}

export interface StoreOptions {
  defaultTimezone: string;
  streakRules: Omit<StreakRules, 'weekStart'>;
}

export interface BatchResult {
  /** events that changed an activity (the rest were redeliveries or older versions) */
  changed: number;
  users: number;
  /** new outbox rows */
  facts: number;
}

/** Serialises outbox inserts so that ids commit in id order (see the migration). */
const OUTBOX_LOCK = 0x656e6761; // 'enga'
const EPOCH = "DATE '1970-01-01'";
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

interface Zone {
  fromMs: number;
  timezone: string;
  weekStart: number;
}

function weekStartOf(v: string | undefined): number | null {
  const i = v ? WEEKDAYS.indexOf(v) : -1;
  return i >= 0 ? i : null;
}

export class PgEngagementStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: StoreOptions,
  ) {}

  /** Applies one batch of activity events in one transaction. */
  async applyBatch(events: readonly ActivityEventIn[], nowMs: number): Promise<BatchResult> {
    // fold the batch first: one upsert per activity, the batch's own winner
    const winners = new Map<string, ActivityEventIn>();
    for (const e of events) {
      if (supersedes(e, winners.get(e.activityId))) winners.set(e.activityId, e);
    }
    if (winners.size === 0) return { changed: 0, users: 0, facts: 0 };
    return this.transaction(async (c) => {
      const users = [...new Set([...winners.values()].map((w) => w.userId))].sort();
      await lockUsers(c, users);
      const zones = await this.zones(c, users, nowMs);
      const rows = [...winners.values()];
      const day = (w: ActivityEventIn): Day | null =>
        w.facts ? localDay(w.facts.startTs, zoneAt(zones.get(w.userId)!, w.facts.startTs).timezone) : null;
      const changed = await c.query<{ user_id: string }>(
        `INSERT INTO engagement_activities AS t
           (activity_id, user_id, version, deleted, sport, start_ts, local_date, distance_m, moving_s,
            elevation_m, calories, updated_at)
         SELECT a, u, v, d, s, ts, ${EPOCH} + ld, dm, ms, em, kc, now()
         FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::boolean[], $5::text[], $6::bigint[],
                     $7::int[], $8::float8[], $9::float8[], $10::float8[], $11::float8[])
           AS x(a, u, v, d, s, ts, ld, dm, ms, em, kc)
         ON CONFLICT (activity_id) DO UPDATE SET
           version = excluded.version, deleted = excluded.deleted, sport = excluded.sport,
           start_ts = excluded.start_ts, local_date = excluded.local_date, distance_m = excluded.distance_m,
           moving_s = excluded.moving_s, elevation_m = excluded.elevation_m, calories = excluded.calories,
           updated_at = now()
         WHERE (excluded.version, excluded.deleted) > (t.version, t.deleted)
         RETURNING user_id`,
        [
          rows.map((w) => w.activityId),
          rows.map((w) => w.userId),
          rows.map((w) => w.version),
          rows.map((w) => w.deleted),
          rows.map((w) => w.facts?.sport ?? ''),
          rows.map((w) => w.facts?.startTs ?? 0),
          rows.map(day),
          rows.map((w) => w.facts?.distanceM ?? 0),
          rows.map((w) => w.facts?.movingS ?? 0),
          rows.map((w) => w.facts?.elevationM ?? 0),
          rows.map((w) => w.facts?.calories ?? 0),
        ],
      );
      const affected = [...new Set(changed.rows.map((r) => r.user_id))].sort();
      const facts = affected.length > 0 ? await this.recompute(c, affected, zones, nowMs) : 0;
      return { changed: changed.rowCount ?? 0, users: affected.length, facts };
    });
  }

  /**
   * Recomputes the athletes queued in engagement_recompute (a goal or challenge changed in the API,
   * support asked for a recalculation); at most `limit` per call. Returns how many were done.
   */
  async drainRecompute(nowMs: number, limit = 500): Promise<number> {
    return this.transaction(async (c) => {
      const q = await c.query<{ user_id: string }>(
        `DELETE FROM engagement_recompute WHERE user_id IN
           (SELECT user_id FROM engagement_recompute ORDER BY requested_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING user_id`,
        [limit],
      );
      const users = q.rows.map((r) => r.user_id).sort();
      if (users.length === 0) return 0;
      await lockUsers(c, users);
      await this.recompute(c, users, await this.zones(c, users, nowMs), nowMs);
      return users.length;
    });
  }

  /** Moves joined participants of challenges whose window is over (or closed) to not_completed. */
  async closeEnded(nowMs: number): Promise<number> {
    return this.transaction(async (c) => {
      // a day of margin: the window ends at the end of its last local day, in whichever zone applies
      const q = await c.query<{
        challenge_id: string;
        user_id: string;
        end: number;
        tz: string | null;
        closed: boolean;
      }>(
        `SELECT p.challenge_id, p.user_id, c.end_date - ${EPOCH} AS end, c.timezone AS tz,
                c.closed_at IS NOT NULL AS closed
         FROM challenge_participants p JOIN challenges c ON c.id = p.challenge_id
         WHERE p.state = 'joined' AND (c.closed_at IS NOT NULL OR c.end_date < to_timestamp($1 / 1000.0)::date)
         ORDER BY p.user_id LIMIT 1000`,
        [nowMs],
      );
      if (q.rows.length === 0) return 0;
      const users = [...new Set(q.rows.map((r) => r.user_id))].sort();
      await lockUsers(c, users);
      const zones = await this.zones(c, users, nowMs);
      // the last activities may complete it: recompute first, then close what is still joined
      await this.recompute(c, users, zones, nowMs);
      let closed = 0;
      for (const r of q.rows) {
        const tz = r.tz ?? zoneAt(zones.get(r.user_id)!, nowMs).timezone;
        const window = { start: Number.NEGATIVE_INFINITY, end: r.end, closed: r.closed };
        const today = localDay(nowMs, tz);
        if (!r.closed && today <= r.end) continue; // not over yet in this athlete's zone
        const t = transition('joined', 'close', window, today);
        if (!t.ok) continue;
        const u = await c.query(
          `UPDATE challenge_participants SET state = $3, updated_at = now()
           WHERE challenge_id = $1 AND user_id = $2 AND state = 'joined'`,
          [r.challenge_id, r.user_id, t.state],
        );
        closed += u.rowCount ?? 0;
      }
      if (closed > 0) await this.recompute(c, users, zones, nowMs);
      return closed;
    });
  }

  /** Number of outbox rows not yet marked published. */
  async outboxDepth(): Promise<number> {
    const r = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM engagement_outbox WHERE published_at IS NULL',
    );
    return Number(r.rows[0]!.n);
  }

  private async transaction<T>(f: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (err) {
      throw new EngagementError('store_unavailable', `postgres: ${(err as Error).message}`, { cause: err });
    }
    let broken = false;
    try {
      await c.query('BEGIN');
      const out = await f(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {
        broken = true;
      });
      if (err instanceof EngagementError) throw err;
      throw new EngagementError('store_unavailable', `postgres: ${(err as Error).message}`, { cause: err });
    } finally {
      c.release(broken);
    }
  }

  /**
   * Each athlete's zone history, first recording the profile's zone and first day of the week when
   * they changed (effective from now: a change applies to activities that start from then on).
   */
  private async zones(c: pg.PoolClient, users: string[], nowMs: number): Promise<Map<string, Zone[]>> {
    const profiles = await c.query<{ id: string; tz: string; ws: string }>(
      'SELECT id, timezone AS tz, week_start AS ws FROM users WHERE id = ANY($1::uuid[])',
      [users],
    );
    const profile = new Map(profiles.rows.map((r) => [r.id, r]));
    const hist = await c.query<{ user_id: string; from_ms: number; timezone: string; week_start: number }>(
      `SELECT user_id, (extract(epoch FROM effective_from) * 1000)::float8 AS from_ms, timezone, week_start
       FROM engagement_timezones WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, effective_from`,
      [users],
    );
    const out = new Map<string, Zone[]>();
    for (const r of hist.rows) {
      const list = out.get(r.user_id) ?? [];
      list.push({ fromMs: r.from_ms, timezone: r.timezone, weekStart: r.week_start });
      out.set(r.user_id, list);
    }
    const add: Array<[string, number, string, number]> = [];
    for (const u of users) {
      const p = profile.get(u);
      const tz = p && isTimeZone(p.tz) ? p.tz : this.opts.defaultTimezone;
      const ws = weekStartOf(p?.ws) ?? 1;
      const list = out.get(u) ?? [];
      const last = list[list.length - 1];
      if (last && last.timezone === tz && last.weekStart === ws) continue;
      const fromMs = last ? nowMs : 0;
      list.push({ fromMs, timezone: tz, weekStart: ws });
      out.set(u, list);
      add.push([u, fromMs, tz, ws]);
    }
    if (add.length > 0) {
      await c.query(
        `INSERT INTO engagement_timezones (user_id, effective_from, timezone, week_start)
         SELECT u, to_timestamp(f / 1000.0), tz, ws FROM unnest($1::uuid[], $2::float8[], $3::text[], $4::int[]) AS x(u, f, tz, ws)
         ON CONFLICT DO NOTHING`,
        [add.map((a) => a[0]), add.map((a) => a[1]), add.map((a) => a[2]), add.map((a) => a[3])],
      );
    }
    return out;
  }

  private async recompute(
    c: pg.PoolClient,
    users: string[],
    zones: Map<string, Zone[]>,
    nowMs: number,
  ): Promise<number> {
    const [acts, goals, periods, parts, storedStreaks] = await inOrder([
      () =>
        c.query<{
          activity_id: string;
          user_id: string;
          sport: string;
          start_ts: string;
          day: number;
          distance_m: number;
          moving_s: number;
          elevation_m: number;
          calories: number;
        }>(
          `SELECT activity_id, user_id, sport, start_ts, local_date - ${EPOCH} AS day, distance_m, moving_s,
                elevation_m, calories
         FROM engagement_activities WHERE user_id = ANY($1::uuid[]) AND NOT deleted
         ORDER BY user_id, start_ts, activity_id`,
          [users],
        ),
      () =>
        c.query<{
          id: string;
          user_id: string;
          kind: GoalType;
          sport: string | null;
          period: PeriodKind;
          target: number;
          starts_on: number;
          ends_on: number | null;
        }>(
          `SELECT id, user_id, kind, sport, period, target, starts_on - ${EPOCH} AS starts_on,
                ends_on - ${EPOCH} AS ends_on
         FROM goals WHERE user_id = ANY($1::uuid[]) AND archived_at IS NULL`,
          [users],
        ),
      () =>
        c.query<{
          goal_id: string;
          start: number;
          end: number;
          value: number;
          activities: number;
          achieved: boolean;
          achievements: number;
          crossed_by: string | null;
        }>(
          `SELECT p.goal_id, p.period_start - ${EPOCH} AS start, p.period_end - ${EPOCH} AS end, p.value, p.activities,
                p.achieved, p.achievements, p.crossed_by
         FROM goal_periods p JOIN goals g ON g.id = p.goal_id WHERE g.user_id = ANY($1::uuid[])`,
          [users],
        ),
      () =>
        c.query<{
          challenge_id: string;
          user_id: string;
          state: ParticipantRow['state'];
          value: number;
          milestones: number[];
          forced: boolean;
          rule_kind: ChallengeDef['rule']['kind'];
          per_period: number;
          target: number;
          sport: string | null;
          min_distance_m: number;
          min_moving_s: number;
          c_milestones: number[];
          start: number;
          end: number;
          timezone: string | null;
          closed: boolean;
        }>(
          `SELECT p.challenge_id, p.user_id, p.state, p.value, p.milestones, p.forced, c.rule_kind, c.per_period,
                c.target, c.sport, c.min_distance_m, c.min_moving_s, c.milestones AS c_milestones,
                c.start_date - ${EPOCH} AS start, c.end_date - ${EPOCH} AS end, c.timezone,
                c.closed_at IS NOT NULL AS closed
         FROM challenge_participants p JOIN challenges c ON c.id = p.challenge_id
         WHERE p.user_id = ANY($1::uuid[]) AND p.state <> 'unjoined'`,
          [users],
        ),
      () =>
        c.query<{ user_id: string; kind: string; sport: string; sig: string }>(
          `SELECT user_id, kind, sport,
                concat_ws(',', last_length, last_start - ${EPOCH}, last_end - ${EPOCH}, longest_length,
                          longest_start - ${EPOCH}, longest_end - ${EPOCH}) AS sig
         FROM streaks WHERE user_id = ANY($1::uuid[])`,
          [users],
        ),
    ] as const);
    const group = <T extends { user_id: string }>(rows: T[]) => {
      const m = new Map<string, T[]>();
      for (const r of rows) {
        const l = m.get(r.user_id);
        if (l) l.push(r);
        else m.set(r.user_id, [r]);
      }
      return m;
    };
    const actsBy = group(acts.rows);
    const goalsBy = group(goals.rows);
    const partsBy = group(parts.rows);
    const stored = new Map<string, Map<Day, StoredGoalPeriod>>();
    for (const p of periods.rows) {
      const m = stored.get(p.goal_id) ?? new Map<Day, StoredGoalPeriod>();
      m.set(p.start, { achieved: p.achieved, achievements: p.achievements });
      stored.set(p.goal_id, m);
    }

    const gp: Array<[string, number, number, number, number, boolean, number, string | null]> = [];
    const st: Array<[string, string, string, number, number, number, number, number, number]> = [];
    const pp: Array<[string, string, string, number, number[]]> = [];
    const facts: Fact[] = [];
    for (const u of users) {
      const zone = zoneAt(zones.get(u)!, nowMs);
      const activities: LiveActivity[] = (actsBy.get(u) ?? []).map((a) => ({
        activityId: a.activity_id,
        sport: a.sport,
        startTs: Number(a.start_ts),
        day: a.day,
        distanceM: a.distance_m,
        movingS: a.moving_s,
        elevationM: a.elevation_m,
        calories: a.calories,
      }));
      const goalDefs: GoalDefinition[] = (goalsBy.get(u) ?? []).map((g) => ({
        id: g.id,
        type: g.kind,
        sport: g.sport,
        period: {
          kind: g.period,
          weekStart: zone.weekStart,
          custom: g.ends_on === null ? undefined : { start: g.starts_on, end: g.ends_on },
        },
        target: g.target,
        startsOn: g.starts_on,
        endsOn: g.ends_on,
      }));
      const out = recomputeUser({
        userId: u,
        timezone: zone.timezone,
        weekStart: zone.weekStart,
        activities,
        goals: goalDefs,
        stored,
        challenges: (partsBy.get(u) ?? []).map((p) => ({
          def: {
            id: p.challenge_id,
            rule: {
              kind: p.rule_kind,
              perPeriod: p.per_period,
              target: p.target,
              sport: p.sport,
              minDistanceM: p.min_distance_m,
              minMovingS: p.min_moving_s,
            },
            start: p.start,
            end: p.end,
            closed: p.closed,
            milestones: p.c_milestones,
            timezone: p.timezone,
          },
          participant: {
            challengeId: p.challenge_id,
            state: p.state,
            value: p.value,
            milestones: p.milestones,
            forced: p.forced,
          },
        })),
        streakRules: this.opts.streakRules,
        nowMs,
      });
      for (const r of out.goalPeriods)
        gp.push([r.goalId, r.start, r.end, r.value, r.activities, r.achieved, r.achievements, r.crossedBy]);
      for (const s of out.streaks)
        st.push([
          u,
          s.kind,
          s.sport,
          s.last.length,
          s.last.start,
          s.last.end,
          s.longest.length,
          s.longest.start,
          s.longest.end,
        ]);
      for (const p of out.participants) pp.push([p.challengeId, u, p.state, p.value, p.milestones]);
      facts.push(...out.facts);
    }
    // write only what changed: a batch usually moves one period per goal and one streak per athlete
    const col = <T, K extends keyof T>(rows: T[], k: K) => rows.map((r) => r[k]);
    const periodSig = (r: readonly unknown[]) => r.slice(2).join('|');
    const before = new Map(
      periods.rows.map((p) => [
        `${p.goal_id}|${p.start}`,
        periodSig([
          p.goal_id,
          p.start,
          p.end,
          p.value,
          p.activities,
          p.achieved,
          p.achievements,
          p.crossed_by,
        ]),
      ]),
    );
    const changedPeriods = gp.filter((r) => {
      const k = `${r[0]}|${r[1]}`;
      const same = before.get(k) === periodSig(r);
      before.delete(k);
      return !same;
    });
    if (before.size > 0) {
      const gone = [...before.keys()].map((k) => k.split('|'));
      await c.query(
        `DELETE FROM goal_periods p USING unnest($1::uuid[], $2::int[]) AS t(g, s)
         WHERE p.goal_id = t.g AND p.period_start = ${EPOCH} + t.s`,
        [gone.map((g) => g[0]), gone.map((g) => Number(g[1]))],
      );
    }
    if (changedPeriods.length > 0) {
      await c.query(
        `INSERT INTO goal_periods (goal_id, period_start, period_end, value, activities, achieved, achievements, crossed_by)
         SELECT g, ${EPOCH} + s, ${EPOCH} + e, v, n, a, k, x
         FROM unnest($1::uuid[], $2::int[], $3::int[], $4::float8[], $5::int[], $6::boolean[], $7::int[], $8::text[])
           AS t(g, s, e, v, n, a, k, x)
         ON CONFLICT (goal_id, period_start) DO UPDATE SET
           period_end = excluded.period_end, value = excluded.value, activities = excluded.activities,
           achieved = excluded.achieved, achievements = excluded.achievements, crossed_by = excluded.crossed_by,
           updated_at = now()`,
        [0, 1, 2, 3, 4, 5, 6, 7].map((i) => col(changedPeriods, i as 0)),
      );
    }
    const streaksBefore = new Map(
      storedStreaks.rows.map((r) => [`${r.user_id}|${r.kind}|${r.sport}`, r.sig]),
    );
    const changedStreaks = st.filter((r) => {
      const k = `${r[0]}|${r[1]}|${r[2]}`;
      const same = streaksBefore.get(k) === r.slice(3).join(',');
      streaksBefore.delete(k);
      return !same;
    });
    if (streaksBefore.size > 0) {
      const gone = [...streaksBefore.keys()].map((k) => k.split('|'));
      await c.query(
        `DELETE FROM streaks s USING unnest($1::uuid[], $2::text[], $3::text[]) AS t(u, k, sp)
         WHERE s.user_id = t.u AND s.kind = t.k AND s.sport = t.sp`,
        [gone.map((g) => g[0]), gone.map((g) => g[1]), gone.map((g) => g[2])],
      );
    }
    if (changedStreaks.length > 0) {
      await c.query(
        `INSERT INTO streaks (user_id, kind, sport, last_length, last_start, last_end, longest_length, longest_start, longest_end)
         SELECT u, k, s, ll, ${EPOCH} + ls, ${EPOCH} + le, gl, ${EPOCH} + gs, ${EPOCH} + ge
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[])
           AS t(u, k, s, ll, ls, le, gl, gs, ge)
         ON CONFLICT (user_id, kind, sport) DO UPDATE SET
           last_length = excluded.last_length, last_start = excluded.last_start, last_end = excluded.last_end,
           longest_length = excluded.longest_length, longest_start = excluded.longest_start,
           longest_end = excluded.longest_end, updated_at = now()`,
        [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => col(changedStreaks, i as 0)),
      );
    }
    const partBefore = new Map(
      parts.rows.map((p) => [
        `${p.challenge_id}|${p.user_id}`,
        `${p.state}|${p.value}|${p.milestones.join(',')}`,
      ]),
    );
    const changedParts = pp.filter(
      ([cid, u, state, value, milestones]) =>
        partBefore.get(`${cid}|${u}`) !== `${state}|${value}|${milestones.join(',')}`,
    );
    if (changedParts.length > 0) {
      // a joined participant moves as the machine said in model.ts; a completed one keeps its state
      await c.query(
        `UPDATE challenge_participants p
         SET state = CASE WHEN p.state = 'joined' THEN t.st ELSE p.state END, value = t.v,
             milestones = ARRAY(SELECT jsonb_array_elements_text(t.m)::float8),
             completed_at = CASE WHEN p.state = 'joined' AND t.st = 'completed' THEN now() ELSE p.completed_at END,
             updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::float8[], $5::jsonb[]) AS t(c, u, st, v, m)
         WHERE p.challenge_id = t.c AND p.user_id = t.u AND p.state IN ('joined', 'completed')`,
        [
          col(changedParts, 0),
          col(changedParts, 1),
          col(changedParts, 2),
          col(changedParts, 3),
          changedParts.map((r) => JSON.stringify(r[4])),
        ],
      );
    }
    return insertFacts(c, facts);
  }
}

/**
 * Runs queries of one client one after the other (pg queues them anyway, and pg 9 refuses a query on a
 * client that is still running one).
 */
async function inOrder<T extends readonly (() => Promise<unknown>)[]>(
  fs: T,
): Promise<{ -readonly [K in keyof T]: T[K] extends () => Promise<infer R> ? R : never }> {
  const out: unknown[] = [];
  for (const f of fs) out.push(await f());
  return out as never;
}

function zoneAt(list: Zone[], ms: number): Zone {
  let z = list[0]!;
  for (const e of list) if (e.fromMs <= ms) z = e;
  return z;
}

async function lockUsers(c: pg.PoolClient, users: string[]): Promise<void> {
  // sorted ids, so two transactions never wait on each other's locks in opposite orders
  await c.query(
    `SELECT pg_advisory_xact_lock(hashtextextended(u::text, 0))
     FROM unnest($1::uuid[]) WITH ORDINALITY AS x(u, i) ORDER BY i`,
    [users],
  );
}

/** Appends facts to the outbox (a fact already there is skipped); returns how many are new. */
export async function insertFacts(c: pg.PoolClient, facts: readonly Fact[]): Promise<number> {
  let todo = facts;
  if (facts.length === 0) return 0;
  // most facts of a recomputation are known already: look them up without the outbox lock
  const known = await c.query<{ fact_key: string }>(
    'SELECT fact_key FROM engagement_outbox WHERE fact_key = ANY($1::text[])',
    [facts.map((f) => f.factKey)],
  );
  const have = new Set(known.rows.map((r) => r.fact_key));
  todo = facts.filter((f) => !have.has(f.factKey));
  if (todo.length === 0) return 0;
  await c.query('SELECT pg_advisory_xact_lock($1)', [OUTBOX_LOCK]);
  const r = await c.query(
    `INSERT INTO engagement_outbox (fact_key, record, message_key, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
     ON CONFLICT (fact_key) DO NOTHING`,
    [
      todo.map((f) => f.factKey),
      todo.map((f) => f.record),
      todo.map((f) => f.key),
      todo.map((f) => JSON.stringify(f.payload)),
    ],
  );
  return r.rowCount ?? 0;
}
