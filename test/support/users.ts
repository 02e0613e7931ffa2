// Users for integration tests, in the shared PostgreSQL: one place that knows which columns a user row
// needs, so a migration that adds one changes this file, not every test.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export interface TestUserFields {
  /** default: a new UUID */
  id?: string;
  /** default: unique, under the reserved test.invalid domain */
  email?: string;
  name?: string;
  /** ISO date, e.g. '1990-05-17' */
  birthDate?: string | null;
  sex?: 'female' | 'male' | null;
  weightKg?: number | null;
  maxHr?: number | null;
  restingHr?: number | null;
}

/** Inserts a user and returns its id. Delete it with `deleteTestUsers` (its devices go with it). */
export async function createTestUser(pool: pg.Pool, fields: TestUserFields = {}): Promise<string> {
  const r = await pool.query<{ id: string }>(
    `INSERT INTO users (id, email, name, birth_date, sex, weight_kg, max_hr, resting_hr)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [
      fields.id ?? randomUUID(),
      fields.email ?? `user-${randomUUID()}@test.invalid`,
      fields.name ?? 'test user',
      fields.birthDate ?? null,
      fields.sex ?? null,
      fields.weightKg ?? null,
      fields.maxHr ?? null,
      fields.restingHr ?? null,
    ],
  );
  return r.rows[0]!.id;
}

export async function deleteTestUsers(pool: pg.Pool, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await pool.query('DELETE FROM users WHERE id = ANY($1)', [ids]);
}
