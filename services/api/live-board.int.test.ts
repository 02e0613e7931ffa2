import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { liveKeys } from '../../schemas/live-keys.js';
import { type ApiStack, openStream, type SignedIn, startApiStack } from '../../test/support/api-stack.js';

// GET /v1/live/board/stream: one stream with the live sessions of every athlete who granted the caller
// access, and nobody else's; a grant that ends drops its athlete from the stream, which goes on.
let s: ApiStack;
beforeAll(async () => {
  s = await startApiStack();
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
