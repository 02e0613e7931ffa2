import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { ident, str } from '../common/clickhouse-sql.js';
import type { Logger } from '../common/logger.js';
import type { TelemetryProducer } from './producer-kafka.js';
import { statsKeys } from './stats-cache.js';

export interface ActivityDeletionDeps {
  pg: pg.Pool;
  redis: Redis;
  clickhouse: ClickHouseClient;
  clickhouseDatabase: string;
  telemetry?: TelemetryProducer;
}

/** A deleted activity's tombstone (PostgreSQL deleted_activities), which is also its event's outbox row. */
export interface Tombstone {
  activity_id: string;
  user_id: string;
  device_id: string | null;
  session_id: string | null;
  version: string | number;
  purged: boolean;
  announced: boolean;
}

/** What the deletion knows of the activity when it starts: its stored row, if any. */
export interface DeletionTarget {
  activityId: string;
  userId: string;
  /** the stored activity's session (null: none stored yet, e.g. an upload still processing) */
  deviceId: string | null;
  sessionId: string | null;
  version: number;
}

/** How long a deletion waits for ClickHouse's mutations before it answers anyway (they go on running). */
const PURGE_WAIT_MS = 15_000;

const TOMBSTONE_COLUMNS = `activity_id, user_id, device_id, session_id, version,
  purged_at IS NOT NULL AS purged, announced_at IS NOT NULL AS announced`;

/** The tombstone of `activityId`, or none. */
export async function tombstoneOf(db: pg.Pool, activityId: string): Promise<Tombstone | undefined> {
  const { rows } = await db.query<Tombstone>(
    `SELECT ${TOMBSTONE_COLUMNS} FROM deleted_activities WHERE activity_id = $1`,
    [activityId],
  );
  return rows[0];
}

/**
 * The MergeTree tables of the database that hold rows of one activity: by `activity_id` where a table has
 * that column, else by (`device_id`, `session_id`). Read from system.columns so that a table added later
 * is purged too.
 */
async function activityTables(
  ch: ClickHouseClient,
  database: string,
): Promise<{ table: string; by: 'activity' | 'session' }[]> {
  const rs = await ch.query({
    query: `SELECT table AS tbl, groupArray(name) AS cols FROM system.columns
            WHERE database = ${str(database)} AND name IN ('activity_id', 'device_id', 'session_id')
              AND table IN (SELECT name FROM system.tables WHERE database = ${str(database)} AND engine LIKE '%MergeTree%')
            GROUP BY tbl ORDER BY tbl`,
    format: 'JSONEachRow',
  });
  const out: { table: string; by: 'activity' | 'session' }[] = [];
  for (const r of await rs.json<{ tbl: string; cols: string[] }>()) {
    if (r.cols.includes('activity_id')) out.push({ table: r.tbl, by: 'activity' });
    else if (r.cols.includes('device_id') && r.cols.includes('session_id'))
      out.push({ table: r.tbl, by: 'session' });
  }
  return out;
}

/**
 * Schedules `ALTER TABLE … DELETE` of the activity's rows in every table that holds them (the activity's
 * versions, samples, controls, sets, session index, announcements, streams), then waits until ClickHouse
 * reports those mutations done (bounded: a slow mutation goes on and the rows leave when it ends). Returns
 * whether they were seen done. The same statements on 18.16 and current ClickHouse.
 */
export async function purgeActivity(
  ch: ClickHouseClient,
  database: string,
  t: Pick<Tombstone, 'activity_id' | 'device_id' | 'session_id'>,
  waitMs = PURGE_WAIT_MS,
): Promise<boolean> {
  const db = ident(database);
  const tables = await activityTables(ch, database);
  for (const { table, by } of tables) {
    if (by === 'session' && (t.device_id === null || t.session_id === null)) continue;
    const where =
      by === 'activity'
        ? `activity_id = ${str(t.activity_id)}`
        : `device_id = ${str(t.device_id!)} AND session_id = ${str(t.session_id!)}`;
    await ch.command({ query: `ALTER TABLE ${db}.${ident(table)} DELETE WHERE ${where}` });
  }
  // a mutation's command text names the activity id or the session id it deletes
  const names = [t.activity_id, ...(t.session_id ? [t.session_id] : [])];
  const pending = `SELECT count() AS n FROM system.mutations
     WHERE database = ${str(database)} AND is_done = 0
       AND (${names.map((n) => `position(command, ${str(n)}) > 0`).join(' OR ')})`;
  const until = Date.now() + waitMs;
  for (;;) {
    const rs = await ch.query({ query: pending, format: 'JSONEachRow' });
    const [row] = await rs.json<{ n: string | number }>();
    if (Number(row?.n ?? 0) === 0) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Deletes an activity, in this order, each step idempotent so a retry (or the relay) finishes a deletion
 * that stopped half-way:
 * 1. the tombstone in PostgreSQL (the durable fact: from here on the worker drops the session's records and
 *    never finalises it again, and the activity answers 404);
 * 2. ClickHouse: the activity's rows in every table (mutations; waited for, bounded), the athlete's stats
 *    cache generation bumped, the activity's name and notes deleted; the tombstone marked purged;
 * 3. ActivityDeleted on activities.v1 (after the state it announces is stored), the tombstone marked
 *    announced. Kafka away: the caller answers 503; the relay publishes it later.
 * Returns the tombstone as it stands at the end.
 */
export async function deleteActivity(deps: ActivityDeletionDeps, target: DeletionTarget): Promise<Tombstone> {
  await deps.pg.query(
    `INSERT INTO deleted_activities (activity_id, user_id, device_id, session_id, version)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (activity_id) DO NOTHING`,
    [target.activityId, target.userId, target.deviceId, target.sessionId, target.version],
  );
  const t = (await tombstoneOf(deps.pg, target.activityId))!;
  return finishDeletion(deps, t);
}

/**
 * Steps 2 and 3 of deleteActivity for a stored tombstone (what the relay runs for pending ones); `db`: where
 * the tombstone is updated (the relay's transaction, which holds its row lock).
 */
export async function finishDeletion(
  deps: ActivityDeletionDeps,
  t: Tombstone,
  db: pg.Pool | pg.PoolClient = deps.pg,
): Promise<Tombstone> {
  if (!t.purged) {
    const done = await purgeActivity(deps.clickhouse, deps.clickhouseDatabase, t);
    await deps.redis.incr(statsKeys.generation(t.user_id)).catch(() => {});
    await db.query('DELETE FROM activity_details WHERE activity_id = $1', [t.activity_id]);
    if (done) {
      await db.query('UPDATE deleted_activities SET purged_at = now() WHERE activity_id = $1', [
        t.activity_id,
      ]);
      t = { ...t, purged: true };
    }
  }
  if (!t.announced && deps.telemetry) {
    await deps.telemetry.announceDeleted({
      activityId: t.activity_id,
      userId: t.user_id,
      version: Number(t.version),
      reason: 'user',
      at: Date.now(),
    });
    await db.query('UPDATE deleted_activities SET announced_at = now() WHERE activity_id = $1', [
      t.activity_id,
    ]);
    t = { ...t, announced: true };
  }
  return t;
}

/**
 * Finishes the deletions that a request left unfinished (ClickHouse or Kafka away, the client gone): every
 * `intervalMs` it takes the oldest unannounced tombstones, each locked for the attempt (SKIP LOCKED, so API
 * replicas share the work), and runs finishDeletion. Failures are logged and tried again next round.
 */
export class ActivityDeletionRelay {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: ActivityDeletionDeps,
    private readonly logger: Logger,
    private readonly opts: { intervalMs: number; minAgeMs: number } = { intervalMs: 5000, minAgeMs: 10_000 },
  ) {}

  /** One round: returns how many deletions it finished. */
  async runOnce(): Promise<number> {
    const client = await this.deps.pg.connect();
    let finished = 0;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<Tombstone>(
        `SELECT ${TOMBSTONE_COLUMNS} FROM deleted_activities
         WHERE (announced_at IS NULL OR purged_at IS NULL) AND deleted_at < now() - make_interval(secs => $1)
         ORDER BY deleted_at LIMIT 50 FOR UPDATE SKIP LOCKED`,
        [this.opts.minAgeMs / 1000],
      );
      for (const t of rows) {
        // one failed deletion must not abort the transaction that holds the others' locks
        await client.query('SAVEPOINT deletion');
        try {
          if ((await finishDeletion(this.deps, t, client)).announced) finished++;
          await client.query('RELEASE SAVEPOINT deletion');
        } catch (err) {
          await client.query('ROLLBACK TO SAVEPOINT deletion');
          this.logger.warn({ err: (err as Error).message, activityId: t.activity_id }, 'deletion relay');
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    return finished;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .then(() => {})
        .catch((err) => this.logger.warn({ err: (err as Error).message }, 'deletion relay round failed'))
        .finally(() => {
          this.running = null;
        });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
