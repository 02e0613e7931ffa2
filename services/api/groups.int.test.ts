import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ApiStack, type SignedIn, startApiStack } from '../../test/support/api-stack.js';

let s: ApiStack;
beforeAll(async () => {
  s = await startApiStack();
});
afterAll(async () => s?.close());

const call = (u: SignedIn, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  s.app.inject({ method, url, headers: u.auth, ...(payload ? { payload } : {}) });

describe('groups', () => {
  test('create, invite by e-mail, join by code; members see names, managers e-mails; roles; leave and remove', async () => {
    const owner = await s.user({ name: 'Olga' });
    const invited = await s.user({ name: 'Ivan' });
    const joiner = await s.user({ name: 'Jo' });
    const outsider = await s.user();

    const created = await call(owner, 'POST', '/v1/groups', { name: 'Night runners', kind: 'club' });
    expect(created.statusCode).toBe(201);
    const g = created.json();
    expect(g).toMatchObject({ name: 'Night runners', kind: 'club', my_role: 'owner', member_count: 1 });
    expect(g.join_code).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(g.members).toEqual([
      expect.objectContaining({ user_id: owner.id, role: 'owner', email: owner.email }),
    ]);

    // Not a member: no such group.
    expect((await call(outsider, 'GET', `/v1/groups/${g.id}`)).statusCode).toBe(404);
    expect(
      (await call(outsider, 'POST', `/v1/groups/${g.id}/invites`, { email: outsider.email })).statusCode,
    ).toBe(404);

    const invite = await call(owner, 'POST', `/v1/groups/${g.id}/invites`, {
      email: invited.email.toUpperCase(),
    });
    expect(invite.statusCode).toBe(201);
    const again = await call(owner, 'POST', `/v1/groups/${g.id}/invites`, { email: invited.email });
    expect([again.statusCode, again.json().id]).toEqual([200, invite.json().id]);
    const mine = (await call(invited, 'GET', '/v1/group-invites')).json().items;
    expect(mine.map((i: { id: string }) => i.id)).toEqual([invite.json().id]);
    expect((await call(outsider, 'GET', '/v1/group-invites')).json().items).toEqual([]);
    expect((await call(outsider, 'POST', `/v1/group-invites/${invite.json().id}/accept`)).statusCode).toBe(
      404,
    );
    const accepted = await call(invited, 'POST', `/v1/group-invites/${invite.json().id}/accept`);
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().my_role).toBe('member');
    expect((await call(invited, 'POST', `/v1/group-invites/${invite.json().id}/accept`)).statusCode).toBe(
      404,
    );

    expect((await call(joiner, 'POST', '/v1/group-joins', { join_code: 'not-a-code' })).statusCode).toBe(404);
    const joined = await call(joiner, 'POST', '/v1/group-joins', { join_code: g.join_code });
    expect(joined.statusCode).toBe(200);
    expect(
      (await call(joiner, 'POST', '/v1/group-joins', { join_code: g.join_code })).json().member_count,
    ).toBe(3);

    // A member sees names and roles, no e-mails, no join code, and cannot invite or change roles.
    const seen = (await call(joiner, 'GET', `/v1/groups/${g.id}`)).json();
    expect(seen.join_code).toBeNull();
    expect(seen.members.map((m: { name: string }) => m.name)).toEqual(['Olga', 'Ivan', 'Jo']);
    for (const m of seen.members) expect(m).not.toHaveProperty('email');
    expect(
      (await call(joiner, 'POST', `/v1/groups/${g.id}/invites`, { email: 'x@example.com' })).statusCode,
    ).toBe(403);
    expect(
      (await call(joiner, 'PATCH', `/v1/groups/${g.id}/members/${invited.id}`, { role: 'admin' })).statusCode,
    ).toBe(403);
    // ... nor the other members' activities: membership is no grant.
    expect((await call(joiner, 'GET', `/v1/activities?user_id=${owner.id}`)).statusCode).toBe(404);
    expect((await call(joiner, 'GET', `/v1/live/users/${owner.id}/sessions`)).statusCode).toBe(404);

    // The owner makes Ivan admin: he sees e-mails, removes members but not the owner, and cannot change roles.
    const promoted = await call(owner, 'PATCH', `/v1/groups/${g.id}/members/${invited.id}`, {
      role: 'admin',
    });
    expect([promoted.statusCode, promoted.json().role]).toEqual([200, 'admin']);
    const asAdmin = (await call(invited, 'GET', `/v1/groups/${g.id}`)).json();
    expect(asAdmin.join_code).toBe(g.join_code);
    expect(asAdmin.members.map((m: { email?: string }) => m.email)).toEqual([
      owner.email,
      invited.email,
      joiner.email,
    ]);
    expect((await call(invited, 'DELETE', `/v1/groups/${g.id}/members/${owner.id}`)).statusCode).toBe(403);
    expect(
      (await call(invited, 'PATCH', `/v1/groups/${g.id}/members/${joiner.id}`, { role: 'admin' })).statusCode,
    ).toBe(403);
    expect((await call(invited, 'DELETE', `/v1/groups/${g.id}/members/${joiner.id}`)).statusCode).toBe(204);
    expect((await call(joiner, 'GET', `/v1/groups/${g.id}`)).statusCode).toBe(404);
    expect((await call(joiner, 'GET', '/v1/groups')).json().items).toEqual([]);
    expect((await call(invited, 'DELETE', `/v1/groups/${g.id}/members/${joiner.id}`)).statusCode).toBe(404);

    // The last owner neither leaves nor steps down; once Ivan is owner too, Olga may leave.
    expect((await call(owner, 'DELETE', `/v1/groups/${g.id}/members/${owner.id}`)).statusCode).toBe(409);
    expect(
      (await call(owner, 'PATCH', `/v1/groups/${g.id}/members/${owner.id}`, { role: 'member' })).statusCode,
    ).toBe(409);
    expect(
      (await call(owner, 'PATCH', `/v1/groups/${g.id}/members/${invited.id}`, { role: 'owner' })).statusCode,
    ).toBe(200);
    expect((await call(owner, 'DELETE', `/v1/groups/${g.id}/members/${owner.id}`)).statusCode).toBe(204);
    expect((await call(invited, 'GET', `/v1/groups/${g.id}`)).json()).toMatchObject({
      my_role: 'owner',
      member_count: 1,
    });
    expect((await call(owner, 'GET', '/v1/groups')).json().items).toEqual([]);
  });
});
