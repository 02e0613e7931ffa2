import type pg from 'pg';

/**
 * The accounts deleted through the API (PostgreSQL deleted_users, written by
 * services/api/account-deletion.ts): the replay from the archive leaves their records out.
 */
export function pgDeletedUsers(pool: pg.Pool): () => Promise<ReadonlySet<string>> {
  return async () =>
    new Set(
      (await pool.query<{ user_id: string }>('SELECT user_id FROM deleted_users')).rows.map((r) => r.user_id),
    );
}
