import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { liveKeys } from '../../schemas/live-keys.js';
import { type ApiStack, openStream, startApiStack, TEST_PASSWORD } from '../../test/support/api-stack.js';

let s: ApiStack;
beforeAll(async () => {
  s = await startApiStack();
});
afterAll(async () => s?.close());

/** Rows of `userId` in each ClickHouse table that has a user_id column. */
async function clickhouseRows(userId: string): Promise<Record<string, number>> {
  const tables = await (
    await s.clickhouse.query({
      query: `SELECT table FROM system.columns WHERE database = '${s.database}' AND name = 'user_id'
              AND table IN (SELECT name FROM system.tables WHERE database = '${s.database}' AND engine LIKE '%MergeTree%')`,
      format: 'JSONEachRow',
    })
  ).json<{ table: string }>();
  const out: Record<string, number> = {};
  for (const { table } of tables) {
    const rs = await s.clickhouse.query({
      query: `SELECT count() AS n FROM ${s.database}.${table} WHERE user_id = '${userId}'`,
      format: 'JSONEachRow',
    });
    out[table] = Number((await rs.json<{ n: string }>())[0]!.n);
  }
  return out;
}

async function seedClickhouse(userId: string) {
  const tables = Object.keys(await clickhouseRows(userId));
  for (const table of tables)
    await s.clickhouse.insert({
      table: `${s.database}.${table}`,
      format: 'JSONEachRow',
      // one row shape for every table: the columns a table lacks are skipped, the others take defaults
      clickhouse_settings: { input_format_skip_unknown_fields: 1 },
      values: [{ user_id: userId, device_id: `d-${userId}`, session_id: 's1', activity_id: `a-${userId}` }],
    });
  return tables;
}

describe('account deletion', () => {
  test('DELETE /v1/users/me needs the password, then clears PostgreSQL, ClickHouse and Redis and tombstones the account', async () => {
    const victim = await s.user({ name: 'Vic' });
    const bystander = await s.user();
    const coach = await s.user();
    const call = (u: typeof victim, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
      s.app.inject({ method, url, headers: u.auth, ...(payload ? { payload } : {}) });

    const device = (await call(victim, 'POST', '/v1/devices', { name: 'watch' })).json().device_id;
    const grant = (await call(victim, 'POST', '/v1/coach-grants', { coach_email: coach.email })).json().id;
    expect((await call(coach, 'POST', `/v1/coach-grants/${grant}/accept`)).statusCode).toBe(200);
    // A pending grant to the victim, from someone else: it goes too.
    await call(bystander, 'POST', '/v1/coach-grants', { coach_email: victim.email });
    // A group the victim owns with another member passes to that member.
    const shared = (await call(victim, 'POST', '/v1/groups', { name: 'club', kind: 'club' })).json();
    await call(bystander, 'POST', '/v1/group-joins', { join_code: shared.join_code });
    const alone = (await call(victim, 'POST', '/v1/groups', { name: 'solo', kind: 'team' })).json();

    const tables = await seedClickhouse(victim.id);
    await seedClickhouse(bystander.id);
    expect(tables).toEqual(expect.arrayContaining(['samples', 'activities', 'activity_announcements']));
    const live = randomUUID();
    await s.redis.hset(liveKeys.hash(live), { activityId: live, userId: victim.id, status: 'active' });
    await s.redis.zadd(liveKeys.active(victim.id), Date.now(), live);
    const stream = await openStream(`${s.baseUrl}/v1/live/users/${victim.id}/stream`, coach.auth);
    expect(stream.status).toBe(200);

    const wrong = await call(victim, 'DELETE', '/v1/users/me', { password: 'not the password at all' });
    expect([wrong.statusCode, wrong.json().code]).toEqual([403, 'current_password_incorrect']);
    expect((await call(victim, 'GET', '/v1/users/me')).statusCode).toBe(200);

    const deleted = await call(victim, 'DELETE', '/v1/users/me', { password: TEST_PASSWORD });
    expect(deleted.statusCode).toBe(204);

    // PostgreSQL: the account and everything hanging off it; the tombstone stays.
    const pgCount = async (sql: string, args: unknown[]) => Number((await s.pool.query(sql, args)).rows[0].n);
    expect(await pgCount('SELECT count(*) AS n FROM users WHERE id = $1', [victim.id])).toBe(0);
    expect(await pgCount('SELECT count(*) AS n FROM devices WHERE id = $1', [device])).toBe(0);
    expect(await pgCount('SELECT count(*) AS n FROM refresh_tokens WHERE user_id = $1', [victim.id])).toBe(0);
    expect(
      await pgCount('SELECT count(*) AS n FROM coach_grants WHERE athlete_id = $1 OR coach_email = $2', [
        victim.id,
        victim.email,
      ]),
    ).toBe(0);
    expect(
      (await s.pool.query('SELECT purged_at FROM deleted_users WHERE user_id = $1', [victim.id])).rows[0]
        .purged_at,
    ).toBeInstanceOf(Date);
    expect(await pgCount('SELECT count(*) AS n FROM groups WHERE id = $1', [alone.id])).toBe(0);
    expect((await call(bystander, 'GET', `/v1/groups/${shared.id}`)).json()).toMatchObject({
      my_role: 'owner',
      member_count: 1,
    });

    // ClickHouse: every per-user table, once the mutations ran; the bystander's rows stay.
    const until = Date.now() + 30_000;
    let left = await clickhouseRows(victim.id);
    while (Object.values(left).some((n) => n > 0) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      left = await clickhouseRows(victim.id);
    }
    expect(left).toEqual(Object.fromEntries(tables.map((t) => [t, 0])));
    expect(Object.values(await clickhouseRows(bystander.id)).every((n) => n === 1)).toBe(true);

    // Redis: the live state; the coach's open stream closed.
    expect(await s.redis.exists(liveKeys.hash(live), liveKeys.active(victim.id))).toBe(0);
    await stream.done;
    expect(stream.text()).toContain('event: revoked');

    // Signing in again fails like any unknown e-mail; deleting again finds no account.
    const login = await s.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: victim.email, password: TEST_PASSWORD },
    });
    expect(login.statusCode).toBe(401);
    expect((await call(victim, 'DELETE', '/v1/users/me', { password: TEST_PASSWORD })).statusCode).toBe(404);
  });
});
