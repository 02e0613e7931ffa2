import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ApiStack, type SignedIn, startApiStack } from '../../test/support/api-stack.js';

let s: ApiStack;
beforeAll(async () => {
  s = await startApiStack();
});
afterAll(async () => s?.close());

const call = (u: SignedIn, method: 'GET' | 'POST', url: string, payload?: object) =>
  s.app.inject({ method, url, headers: u.auth, ...(payload ? { payload } : {}) });
/** The actor's audit rows, once every answer's status is in (it is written after the answer is sent). */
const auditOf = async (actorId: string) => {
  for (let i = 0; ; i++) {
    const { rows } = await s.pool.query(
      `SELECT actor_email, role, action, target_type, target_id, detail, status, at FROM audit_log
       WHERE actor_id = $1 ORDER BY id`,
      [actorId],
    );
    if (rows.every((r) => r.status !== null) || i === 50) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
};
const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);

describe('support and admin powers, audited', () => {
  test('support reads an account summary (no health figures, no tracks); each read is in audit_log', async () => {
    const athlete = await s.user();
    const support = await s.user({ roles: ['support'] });
    const plain = await s.user();
    await call(athlete, 'POST', '/v1/devices', { name: 'watch' });
    const before = Date.now();

    const r = await call(support, 'GET', `/v1/support/users/${athlete.id}`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: athlete.id, email: athlete.email, roles: [], can_sign_in: true });
    expect(r.json().devices.map((d: { name: string }) => d.name)).toEqual(['watch']);
    for (const k of ['weight_kg', 'max_hr', 'resting_hr', 'birth_date', 'sex', 'activities', 'password_hash'])
      expect(r.json()).not.toHaveProperty(k);
    const found = await call(
      support,
      'GET',
      `/v1/support/users?email=${encodeURIComponent(athlete.email.toUpperCase())}`,
    );
    expect(found.json().id).toBe(athlete.id);

    const rows = await auditOf(support.id);
    expect(rows).toEqual([
      expect.objectContaining({
        actor_email: support.email,
        role: 'support',
        action: 'support.user.read',
        target_type: 'user',
        target_id: athlete.id,
        status: 200,
      }),
      expect.objectContaining({
        action: 'support.user.find',
        target_id: null,
        detail: { email: athlete.email },
        status: 200,
      }),
    ]);
    expect(rows[0].at.getTime()).toBeGreaterThanOrEqual(before - 1000);

    // Without the role: 403, and nothing used, so nothing recorded.
    const refused = await call(plain, 'GET', `/v1/support/users/${athlete.id}`);
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'forbidden']);
    expect(await auditOf(plain.id)).toEqual([]);
    // An athlete's activities are no support case.
    expect((await call(support, 'GET', `/v1/activities?user_id=${athlete.id}`)).statusCode).toBe(404);
  });

  test('admin manages challenges, support completes a participant: every use audited with its answer', async () => {
    const admin = await s.user({ roles: ['admin'] });
    const support = await s.user({ roles: ['support'] });
    const athlete = await s.user();
    const created = await call(admin, 'POST', '/v1/challenges', {
      name: 'audit run',
      rule: { kind: 'activities_per_week', per_period: 1, target: 4 },
      start_date: day(-1),
      end_date: day(30),
      timezone: 'UTC',
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    expect((await call(athlete, 'POST', `/v1/challenges/${id}/join`)).statusCode).toBe(200);
    expect(
      (await call(support, 'POST', `/v1/challenges/${id}/participants/${athlete.id}/complete`)).statusCode,
    ).toBe(200);
    // Refused by the state machine: still a use of the power, recorded with its 409.
    expect(
      (await call(support, 'POST', `/v1/challenges/${id}/participants/${athlete.id}/complete`)).statusCode,
    ).toBe(409);
    expect((await call(admin, 'POST', `/v1/challenges/${id}/close`)).statusCode).toBe(200);

    expect(await auditOf(admin.id)).toEqual([
      expect.objectContaining({ role: 'admin', action: 'challenge.create', target_id: null, status: 201 }),
      expect.objectContaining({
        action: 'challenge.close',
        target_type: 'challenge',
        target_id: id,
        status: 200,
      }),
    ]);
    expect(await auditOf(support.id)).toEqual([
      expect.objectContaining({
        role: 'support',
        action: 'challenge.participant.complete',
        target_id: `${id}/${athlete.id}`,
        status: 200,
      }),
      expect.objectContaining({ action: 'challenge.participant.complete', status: 409 }),
    ]);
  });

  test('a role the operator revoked stops working at once, with the access token still valid', async () => {
    const support = await s.user({ roles: ['support'] });
    expect((await call(support, 'GET', `/v1/support/users/${support.id}`)).statusCode).toBe(200);
    await s.pool.query(`DELETE FROM user_roles WHERE user_id = $1`, [support.id]);
    expect((await call(support, 'GET', `/v1/support/users/${support.id}`)).statusCode).toBe(403);
    expect((await call(support, 'GET', '/v1/users/me')).statusCode).toBe(200);
  });
});
