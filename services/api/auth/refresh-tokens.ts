import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * Refresh tokens: 32 random bytes (base64url), opaque, stored as their SHA-256 only (a fast hash is
 * enough for 256 bits of entropy, as for device tokens). Each sign-in starts a family; every refresh
 * marks the presented token used and issues the next one of the same family. Presenting a used token
 * again means two parties hold the family (a stolen token, or a client that retried): the whole family
 * is revoked and both must sign in again (OAuth 2.0 Security BCP, refresh token rotation).
 */

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const generate = () => randomBytes(32).toString('base64url');

export interface Issued {
  refresh_token: string;
  family_id: string;
}

export async function issueRefreshToken(
  db: pg.Pool | pg.PoolClient,
  userId: string,
  ttlS: number,
  familyId: string = randomUUID(),
): Promise<Issued> {
  const token = generate();
  await db.query(
    `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [familyId, userId, hash(token), ttlS],
  );
  return { refresh_token: token, family_id: familyId };
}

export type Rotation =
  | { ok: true; user_id: string; issued: Issued }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'reused' };

/** Spends `token` and issues its successor in one transaction; a reused token revokes its family. */
export async function rotateRefreshToken(pool: pg.Pool, token: string, ttlS: number): Promise<Rotation> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // The row lock makes two concurrent refreshes with one token serialise: one rotates, the other sees
    // it used and revokes the family.
    const { rows } = await client.query<{
      user_id: string;
      family_id: string;
      used: boolean;
      revoked: boolean;
      expired: boolean;
    }>(
      `SELECT user_id, family_id, used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked,
              expires_at <= now() AS expired
       FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
      [hash(token)],
    );
    const row = rows[0];
    let result: Rotation;
    if (!row) result = { ok: false, reason: 'unknown' };
    else if (row.revoked) result = { ok: false, reason: 'revoked' };
    else if (row.used) {
      await client.query(
        'UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
        [row.family_id],
      );
      result = { ok: false, reason: 'reused' };
    } else if (row.expired) result = { ok: false, reason: 'expired' };
    else {
      await client.query('UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1', [hash(token)]);
      const issued = await issueRefreshToken(client, row.user_id, ttlS, row.family_id);
      result = { ok: true, user_id: row.user_id, issued };
    }
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Ends sign-ins: one family (logout), or every family of a user but `keep` (password change). */
export async function revokeRefreshFamilies(
  db: pg.Pool | pg.PoolClient,
  userId: string,
  which: { family: string } | { allBut: string | null },
): Promise<void> {
  if ('family' in which)
    await db.query(
      'UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND family_id = $2 AND revoked_at IS NULL',
      [userId, which.family],
    );
  else
    await db.query(
      `UPDATE refresh_tokens SET revoked_at = now()
       WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR family_id <> $2::uuid)`,
      [userId, which.allBut],
    );
}
