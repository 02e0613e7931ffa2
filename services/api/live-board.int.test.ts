import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { liveKeys } from '../../schemas/live-keys.js';
import { type ApiStack, openStream, type SignedIn, startApiStack } from '../../test/support/api-stack.js';

// GET /v1/live/board/stream: one stream with the live sessions of every athlete whose live sessions the caller
// may see — who granted them access, or who shares with the staff of a group they run — and nobody else's;
// losing sight of one (a grant ends, sharing turned off, a member leaves or is removed, a staff member made a
// plain member) drops that athlete from the stream, which goes on.
let s: ApiStack;
beforeAll(async () => {
  // a database of its own: group_members.share_live_with_staff may be newer than the shared database
  s = await startApiStack({ privatePg: true });
});
afterAll(async () => s?.close());

const snapshot = (userId: string, activityId: string, distanceM: number) => ({
  activityId,
  userId,
  deviceId: 'd',
  sessionId: 's',
  sport: 'running',
  status: 'active',
  ts: Date.now(),
  lat: 47.37,
  lon: 8.54,
  hr: 150,
  speedMps: 3,
  paceSPerKm: 333,
  distanceM,
  elapsedS: 60,
  movingS: 60,
  samples: 60,
});

async function live(userId: string, distanceM: number) {
  const activityId = randomUUID();
  const snap = snapshot(userId, activityId, distanceM);
  await s.redis.hset(
    liveKeys.hash(activityId),
    Object.fromEntries(Object.entries(snap).map(([k, v]) => [k, String(v)])),
  );
  await s.redis.expire(liveKeys.hash(activityId), 120);
  await s.redis.zadd(liveKeys.active(userId), snap.ts, activityId);
  await s.redis.expire(liveKeys.active(userId), 120);
  return {
    activityId,
    publish: (d: number) =>
      s.redis.publish(liveKeys.userChannel(userId), JSON.stringify(snapshot(userId, activityId, d))),
  };
}

async function grant(athlete: SignedIn, coach: SignedIn): Promise<string> {
  const g = await s.app.inject({
    method: 'POST',
    url: '/v1/coach-grants',
    headers: athlete.auth,
    payload: { coach_email: coach.email },
  });
  expect(g.statusCode).toBe(201);
  const a = await s.app.inject({
    method: 'POST',
    url: `/v1/coach-grants/${g.json().id}/accept`,
    headers: coach.auth,
  });
  expect(a.statusCode).toBe(200);
  return g.json().id;
}

const events = (text: string) =>
  text
    .split('\n\n')
    .filter((e) => e.startsWith('event: '))
    .map((e) => ({ event: /^event: (.*)$/m.exec(e)![1], data: JSON.parse(/^data: (.*)$/m.exec(e)![1]!) }));

test("the board streams the granted athletes' sessions, not others', and drops an athlete whose grant ends", async () => {
  const [coach, ana, ben, stranger] = await Promise.all([s.user(), s.user(), s.user(), s.user()]);
  const anaGrant = await grant(ana, coach);
  await grant(ben, coach);
  const anaRun = await live(ana.id, 100);
  const benRun = await live(ben.id, 200);
  const strangerRun = await live(stranger.id, 300);

  const t = await s.app.inject({ method: 'POST', url: '/v1/live/tickets', headers: coach.auth });
  const stream = await openStream(`${s.baseUrl}/v1/live/board/stream?ticket=${t.json().ticket}`, {});
  try {
    expect(stream.status).toBe(200);
    // the current state first
    await expect.poll(() => events(stream.text()).length, { timeout: 5_000 }).toBe(2);
    expect(new Set(events(stream.text()).map((e) => e.data.activity_id))).toEqual(
      new Set([anaRun.activityId, benRun.activityId]),
    );
    // then every update of theirs, and none of the stranger's
    await strangerRun.publish(301);
    await anaRun.publish(110);
    await benRun.publish(210);
    await expect.poll(() => events(stream.text()).length, { timeout: 5_000 }).toBe(4);
    expect(
      events(stream.text())
        .slice(2)
        .map((e) => [e.data.activity_id, e.data.distance_m]),
    ).toEqual([
      [anaRun.activityId, 110],
      [benRun.activityId, 210],
    ]);

    // Ana ends her grant: the stream says so and sends nothing more of hers; Ben's go on
    const del = await s.app.inject({
      method: 'DELETE',
      url: `/v1/coach-grants/${anaGrant}`,
      headers: ana.auth,
    });
    expect(del.statusCode).toBe(204);
    await expect.poll(() => events(stream.text()).length, { timeout: 5_000 }).toBe(5);
    expect(events(stream.text())[4]).toEqual({ event: 'revoked', data: { athlete_id: ana.id } });
    await anaRun.publish(120);
    await benRun.publish(220);
    await expect.poll(() => events(stream.text()).length, { timeout: 5_000 }).toBe(6);
    expect(events(stream.text())[5]!.data).toMatchObject({ activity_id: benRun.activityId, distance_m: 220 });
    expect(stream.ended()).toBe(false);
  } finally {
    stream.close();
    await s.redis.del(
      ...[anaRun, benRun, strangerRun].map((r) => liveKeys.hash(r.activityId)),
      ...[ana, ben, stranger].map((u) => liveKeys.active(u.id)),
    );
  }
});

const as = (u: SignedIn, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  s.app.inject({ method, url, headers: u.auth, ...(payload === undefined ? {} : { payload }) });

async function boardOf(viewer: SignedIn) {
  const t = await as(viewer, 'POST', '/v1/live/tickets');
  const stream = await openStream(`${s.baseUrl}/v1/live/board/stream?ticket=${t.json().ticket}`, {});
  expect(stream.status).toBe(200);
  return stream;
}

test('group staff see the live sessions of members who share with them, only those, only live, and lose them within seconds', async () => {
  const [owner, admin, ana, ben, cleo] = await Promise.all([
    s.user(),
    s.user(),
    s.user(),
    s.user(),
    s.user(),
  ]);
  const g = (await as(owner, 'POST', '/v1/groups', { name: 'Track club', kind: 'club' })).json();
  for (const u of [admin, ana, ben, cleo])
    expect((await as(u, 'POST', '/v1/group-joins', { join_code: g.join_code })).statusCode).toBe(200);
  expect(
    (await as(owner, 'PATCH', `/v1/groups/${g.id}/members/${admin.id}`, { role: 'admin' })).statusCode,
  ).toBe(200);
  const anaRun = await live(ana.id, 100);
  const benRun = await live(ben.id, 200);
  const runs = [anaRun, benRun];
  const streams: Awaited<ReturnType<typeof boardOf>>[] = [];
  try {
    // off unless the member turns it on: membership alone shows nobody's live sessions
    const own = (await as(ana, 'GET', `/v1/groups/${g.id}`))
      .json()
      .members.find((m: { user_id: string }) => m.user_id === ana.id);
    expect(own.share_live_with_staff).toBe(false);
    expect((await as(owner, 'GET', `/v1/live/users/${ana.id}/sessions`)).statusCode).toBe(404);
    expect((await as(owner, 'GET', '/v1/live/athletes')).json().items).toEqual([]);

    // Ana shares (Ben does not): the owner and the admin see her live, by name; a plain member does not
    const on = await as(ana, 'PATCH', `/v1/groups/${g.id}/membership`, { share_live_with_staff: true });
    expect(on.statusCode).toBe(200);
    expect(on.json()).toMatchObject({ user_id: ana.id, role: 'member', share_live_with_staff: true });
    // idempotent
    expect(
      (await as(ana, 'PATCH', `/v1/groups/${g.id}/membership`, { share_live_with_staff: true })).json(),
    ).toEqual(on.json());
    for (const staff of [owner, admin]) {
      expect((await as(staff, 'GET', '/v1/live/athletes')).json().items).toEqual([
        { user_id: ana.id, name: ana.name, granted: false, group_ids: [g.id] },
      ]);
      const items = (await as(staff, 'GET', `/v1/live/users/${ana.id}/sessions`)).json().items;
      expect(items.map((i: { activity_id: string }) => i.activity_id)).toEqual([anaRun.activityId]);
      expect((await as(staff, 'GET', `/v1/live/sessions/${anaRun.activityId}`)).statusCode).toBe(200);
      expect((await as(staff, 'GET', `/v1/live/users/${ben.id}/sessions`)).statusCode).toBe(404);
      // live sessions only: her activities and stats stay hers
      expect((await as(staff, 'GET', `/v1/activities?user_id=${ana.id}`)).statusCode).toBe(404);
      expect((await as(staff, 'GET', `/v1/users/${ana.id}/stats`)).statusCode).toBe(404);
    }
    expect((await as(cleo, 'GET', `/v1/live/users/${ana.id}/sessions`)).statusCode).toBe(404);
    expect((await as(cleo, 'GET', '/v1/live/athletes')).json().items).toEqual([]);
    // what the staff see of the sharing: owners and admins every member's flag, a plain member their own only
    const staffView = (await as(admin, 'GET', `/v1/groups/${g.id}`)).json().members;
    expect(staffView.find((m: { user_id: string }) => m.user_id === ana.id).share_live_with_staff).toBe(true);
    expect(staffView.find((m: { user_id: string }) => m.user_id === ben.id).share_live_with_staff).toBe(
      false,
    );
    const cleoView = (await as(cleo, 'GET', `/v1/groups/${g.id}`)).json().members;
    expect(
      cleoView.find((m: { user_id: string }) => m.user_id === ana.id).share_live_with_staff,
    ).toBeUndefined();
    // not a member: 404, as for no group
    expect(
      (await as(owner, 'PATCH', `/v1/groups/${randomUUID()}/membership`, { share_live_with_staff: true }))
        .statusCode,
    ).toBe(404);

    // the boards: Ana's session, not Ben's; a plain member's board is empty
    const [ownerBoard, adminBoard, cleoBoard] = [
      await boardOf(owner),
      await boardOf(admin),
      await boardOf(cleo),
    ];
    streams.push(ownerBoard, adminBoard, cleoBoard);
    for (const b of [ownerBoard, adminBoard]) {
      await expect.poll(() => events(b.text()).length, { timeout: 5_000 }).toBe(1);
      expect(events(b.text())[0]!.data.activity_id).toBe(anaRun.activityId);
    }
    await anaRun.publish(110);
    await benRun.publish(210);
    for (const b of [ownerBoard, adminBoard]) {
      await expect.poll(() => events(b.text()).length, { timeout: 5_000 }).toBe(2);
      expect(events(b.text())[1]!.data).toMatchObject({ activity_id: anaRun.activityId, distance_m: 110 });
    }
    expect(events(cleoBoard.text())).toEqual([]);

    // the admin is made a plain member: their board drops Ana (the owner's keeps her)
    expect(
      (await as(owner, 'PATCH', `/v1/groups/${g.id}/members/${admin.id}`, { role: 'member' })).statusCode,
    ).toBe(200);
    await expect.poll(() => events(adminBoard.text()).length, { timeout: 5_000 }).toBe(3);
    expect(events(adminBoard.text())[2]).toEqual({ event: 'revoked', data: { athlete_id: ana.id } });
    expect((await as(admin, 'GET', `/v1/live/users/${ana.id}/sessions`)).statusCode).toBe(404);
    await anaRun.publish(120);
    await expect.poll(() => events(ownerBoard.text()).length, { timeout: 5_000 }).toBe(3);
    expect(events(ownerBoard.text())[2]!.data).toMatchObject({ distance_m: 120 });

    // Ana turns sharing off: she leaves the owner's board within seconds; nothing more of hers comes
    const t0 = Date.now();
    expect(
      (await as(ana, 'PATCH', `/v1/groups/${g.id}/membership`, { share_live_with_staff: false })).statusCode,
    ).toBe(200);
    await expect.poll(() => events(ownerBoard.text()).length, { timeout: 5_000 }).toBe(4);
    expect(events(ownerBoard.text())[3]).toEqual({ event: 'revoked', data: { athlete_id: ana.id } });
    console.log(`sharing turned off: off the staff's board after ${Date.now() - t0} ms`);
    await anaRun.publish(130);
    expect((await as(owner, 'GET', `/v1/live/users/${ana.id}/sessions`)).statusCode).toBe(404);

    // Ben shares and is removed by the owner; Ana shares again and leaves: each leaves the board
    for (const u of [ana, ben])
      expect(
        (await as(u, 'PATCH', `/v1/groups/${g.id}/membership`, { share_live_with_staff: true })).statusCode,
      ).toBe(200);
    const board2 = await boardOf(owner);
    streams.push(board2);
    await expect.poll(() => events(board2.text()).length, { timeout: 5_000 }).toBe(2);
    expect((await as(owner, 'DELETE', `/v1/groups/${g.id}/members/${ben.id}`)).statusCode).toBe(204);
    expect((await as(ana, 'DELETE', `/v1/groups/${g.id}/members/${ana.id}`)).statusCode).toBe(204);
    await expect.poll(() => events(board2.text()).length, { timeout: 5_000 }).toBe(4);
    expect(
      events(board2.text())
        .slice(2)
        .map((e) => e.event === 'revoked' && e.data.athlete_id)
        .sort(),
    ).toEqual([ana.id, ben.id].sort());
    expect((await as(owner, 'GET', '/v1/live/athletes')).json().items).toEqual([]);
    // a coach grant is not touched by any of it: the staff lose the group's sight, not the grant's
    expect(board2.ended()).toBe(false);
  } finally {
    for (const st of streams) st.close();
    await s.redis.del(
      ...runs.map((r) => liveKeys.hash(r.activityId)),
      ...[ana, ben].map((u) => liveKeys.active(u.id)),
    );
  }
});

test('a member who shares with the staff and granted the coach too stays on the board when sharing ends', async () => {
  const [owner, ana] = await Promise.all([s.user(), s.user()]);
  const g = (await as(owner, 'POST', '/v1/groups', { name: 'Squad', kind: 'team' })).json();
  expect((await as(ana, 'POST', '/v1/group-joins', { join_code: g.join_code })).statusCode).toBe(200);
  expect(
    (await as(ana, 'PATCH', `/v1/groups/${g.id}/membership`, { share_live_with_staff: true })).statusCode,
  ).toBe(200);
  await grant(ana, owner);
  expect((await as(owner, 'GET', '/v1/live/athletes')).json().items).toEqual([
    { user_id: ana.id, name: ana.name, granted: true, group_ids: [g.id] },
  ]);
  const run = await live(ana.id, 100);
  const board = await boardOf(owner);
  try {
    await expect.poll(() => events(board.text()).length, { timeout: 5_000 }).toBe(1);
    expect(
      (await as(ana, 'PATCH', `/v1/groups/${g.id}/membership`, { share_live_with_staff: false })).statusCode,
    ).toBe(200);
    // the grant still shows her: the revocation message is asked again and answered yes
    await new Promise((r) => setTimeout(r, 500));
    await run.publish(150);
    await expect.poll(() => events(board.text()).length, { timeout: 5_000 }).toBe(2);
    expect(events(board.text())[1]).toMatchObject({ event: 'snapshot', data: { distance_m: 150 } });
  } finally {
    board.close();
    await s.redis.del(liveKeys.hash(run.activityId), liveKeys.active(ana.id));
  }
});
