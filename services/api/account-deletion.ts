import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { liveKeys } from '../../schemas/live-keys.js';
import { ident, str } from '../common/clickhouse-sql.js';
import { revokeDeviceToken } from '../common/device-tokens.js';
import { ACCESS_REVOKED_CHANNEL, type AccessRevoked } from './access.js';
import type { ExportStore } from './account-exports.js';
import { ApiError } from './errors.js';
import type { ImportStore } from './imports-s3.js';
import { statsKeys } from './stats-cache.js';

export interface DeletionDeps {
  pg: pg.Pool;
  redis: Redis;
  clickhouse: ClickHouseClient;
  clickhouseDatabase: string;
  /** where imports keep their uploads: removed before the rows that name them */
  imports?: { store: ImportStore };
  /** where account exports keep their zips: removed before the rows that name them */
  exports?: { store: ExportStore };
}

/**
 * Every ClickHouse table of the database with a user_id column, read from system.columns so that a table
 * added later is purged too. Views (daily_user_stats, *_v) hold nothing of their own.
 */
async function perUserTables(ch: ClickHouseClient, database: string): Promise<string[]> {
  const rs = await ch.query({
    query: `SELECT table AS tbl FROM system.columns
            WHERE database = ${str(database)} AND name = 'user_id'
              AND table IN (SELECT name FROM system.tables WHERE database = ${str(database)} AND engine LIKE '%MergeTree%')
            ORDER BY tbl`,
    format: 'JSONEachRow',
  });
  // (an alias `name` would shadow the column of that name in WHERE: ClickHouse substitutes aliases)
  return (await rs.json<{ tbl: string }>()).map((r) => r.tbl);
}

/**
 * Schedules the deletion of a user's rows from every per-user table (mutations: the rows leave as each
 * runs). The same statements on 18.16 and current ClickHouse (test/e2e/account-deletion-compat.int.test.ts).
 */
export async function purgeClickhouse(ch: ClickHouseClient, database: string, userId: string): Promise<void> {
  const db = ident(database);
  for (const table of await perUserTables(ch, database))
    await ch.command({ query: `ALTER TABLE ${db}.${ident(table)} DELETE WHERE user_id = ${str(userId)}` });
  // the index of activities by id (migration 0050) names its athlete owner_id
  for (const table of await ownerIndexTables(ch, database))
    await ch.command({ query: `ALTER TABLE ${db}.${ident(table)} DELETE WHERE owner_id = ${str(userId)}` });
}

/** MergeTree tables of the database with an owner_id column (activity_owners). */
async function ownerIndexTables(ch: ClickHouseClient, database: string): Promise<string[]> {
  const rs = await ch.query({
    query: `SELECT table AS tbl FROM system.columns
            WHERE database = ${str(database)} AND name = 'owner_id'
              AND table IN (SELECT name FROM system.tables WHERE database = ${str(database)} AND engine LIKE '%MergeTree%')
            ORDER BY tbl`,
    format: 'JSONEachRow',
  });
  return (await rs.json<{ tbl: string }>()).map((r) => r.tbl);
}

/**
 * Deletes an account and its data from every store the API and analysts read. In this order, so that a
 * failure half-way leaves an account its owner can still sign in to and delete again (every step is
 * idempotent), never data without an account:
 * 1. the tombstone (deleted_users), which the archive replay reads, and the devices revoked (the gateway
 *    refuses them within seconds, so no new samples arrive);
 * 2. ClickHouse: `ALTER TABLE … DELETE WHERE user_id = …` on every per-user table (a mutation: the rows
 *    leave as it runs, seconds on these tables; works on 18.16 and current ClickHouse);
 * 3. S3: the uploaded files of the athlete's imports and the zips of their exports; Redis: the live sessions (hashes and the active set);
 * 4. PostgreSQL in one transaction: grants and invitations addressed to the e-mail, ownership of groups the
 *    account was the last owner of handed to the longest-standing member, then the users row (everything
 *    else cascades), and the tombstone marked purged;
 * 5. open live streams of viewers of the athlete are told (ACCESS_REVOKED_CHANNEL) and close.
 */
export async function deleteAccount(deps: DeletionDeps, userId: string): Promise<void> {
  await deps.pg.query('INSERT INTO deleted_users (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING', [
    userId,
  ]);
  const devices = await deps.pg.query<{ id: string }>('SELECT id FROM devices WHERE user_id = $1', [userId]);
  for (const d of devices.rows) await revokeDeviceToken(deps.pg, deps.redis, d.id);

  try {
    await purgeClickhouse(deps.clickhouse, deps.clickhouseDatabase, userId);
  } catch (err) {
    throw new ApiError('dependency_unavailable', 'ClickHouse did not answer; try again', { cause: err });
  }

  // the S3 objects the athlete's rows name, before the rows go (with the account, ON DELETE CASCADE)
  const removeObjects = async (
    table: 'imports' | 'account_exports',
    store: { remove(key: string): Promise<void> },
  ) => {
    const named = await deps.pg.query<{ object_key: string }>(
      `SELECT object_key FROM ${table} WHERE user_id = $1`,
      [userId],
    );
    try {
      for (const r of named.rows) await store.remove(r.object_key);
    } catch (err) {
      throw new ApiError('dependency_unavailable', 'S3 did not answer; try again', { cause: err });
    }
  };
  if (deps.imports) await removeObjects('imports', deps.imports.store);
  if (deps.exports) await removeObjects('account_exports', deps.exports.store);

  const active = await deps.redis.zrange(liveKeys.active(userId), 0, -1);
  await deps.redis.del(liveKeys.active(userId), ...active.map((id) => liveKeys.hash(id)));
  // the cached reads of the athlete's ClickHouse rows (stats, list, progress, activity detail) are keyed by
  // their generation: a new one, so none of them is served again after the purge
  await deps.redis.incr(statsKeys.generation(userId));

  const client = await deps.pg.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ email: string }>(
      'SELECT lower(email) AS email FROM users WHERE id = $1 FOR UPDATE',
      [userId],
    );
    if (rows[0]) {
      await client.query('DELETE FROM coach_grants WHERE coach_email = $1', [rows[0].email]);
      await client.query('DELETE FROM group_invites WHERE email = $1', [rows[0].email]);
      // A group whose last owner leaves passes to its longest-standing other member.
      await client.query(
        `UPDATE group_members m SET role = 'owner'
         FROM (SELECT DISTINCT ON (o.group_id) o.group_id, o.user_id FROM group_members o
               WHERE o.group_id IN (SELECT group_id FROM group_members WHERE user_id = $1 AND role = 'owner')
                 AND o.user_id <> $1
                 AND NOT EXISTS (SELECT 1 FROM group_members x
                                 WHERE x.group_id = o.group_id AND x.role = 'owner' AND x.user_id <> $1)
               ORDER BY o.group_id, array_position(ARRAY['admin','member'], o.role), o.joined_at, o.user_id) heir
         WHERE m.group_id = heir.group_id AND m.user_id = heir.user_id`,
        [userId],
      );
      await client.query(
        `DELETE FROM groups g WHERE g.id IN (SELECT group_id FROM group_members WHERE user_id = $1)
           AND NOT EXISTS (SELECT 1 FROM group_members x WHERE x.group_id = g.id AND x.user_id <> $1)`,
        [userId],
      );
      await client.query('DELETE FROM users WHERE id = $1', [userId]);
    }
    await client.query('UPDATE deleted_users SET purged_at = now() WHERE user_id = $1', [userId]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }

  const message: AccessRevoked = { athlete_id: userId, viewer_id: null };
  await deps.redis.publish(ACCESS_REVOKED_CHANNEL, JSON.stringify(message));
}
