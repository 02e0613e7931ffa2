import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { liveKeys } from '../../schemas/live-keys.js';
import { type ApiStack, openStream, startApiStack } from '../../test/support/api-stack.js';

let s: ApiStack;
beforeAll(async () => {
  s = await startApiStack();
});
afterAll(async () => s?.close());

const liveSessionsOf = (athleteId: string, auth: { authorization: string }) =>
  s.app.inject({ method: 'GET', url: `/v1/live/users/${athleteId}/sessions`, headers: auth });

describe('coach grants', () => {
  test('granted, accepted, seen; revoked by the athlete: the open stream closes and the coach sees 404', async () => {
    const athlete = await s.user();
    const coach = await s.user();
    const stranger = await s.user();

    expect((await liveSessionsOf(athlete.id, coach.auth)).statusCode).toBe(404);
    const grant = async () =>
      s.app.inject({
        method: 'POST',
        url: '/v1/coach-grants',
        headers: athlete.auth,
        payload: { coach_email: coach.email.toUpperCase() },
      });
    const created = await grant();
    expect(created.statusCode).toBe(201);
    const g = created.json();
    expect(g).toMatchObject({
      status: 'pending',
      athlete: { id: athlete.id, email: athlete.email },
      coach: { id: null, email: coach.email, name: null },
      accepted_at: null,
    });
    // Idempotent: the same open grant again.
    const again = await grant();
    expect([again.statusCode, again.json().id]).toEqual([200, g.id]);

    // Pending: nothing visible yet.
    expect((await liveSessionsOf(athlete.id, coach.auth)).statusCode).toBe(404);
    const lists = async (auth: { authorization: string }) =>
      (await s.app.inject({ method: 'GET', url: '/v1/coach-grants', headers: auth })).json();
    expect((await lists(coach.auth)).received.map((x: { id: string }) => x.id)).toEqual([g.id]);
    expect((await lists(athlete.auth)).given.map((x: { id: string }) => x.id)).toEqual([g.id]);
    expect(await lists(stranger.auth)).toEqual({ given: [], received: [] });

    const accept = (auth: { authorization: string }, id = g.id) =>
      s.app.inject({ method: 'POST', url: `/v1/coach-grants/${id}/accept`, headers: auth });
    expect((await accept(athlete.auth)).statusCode).toBe(403);
    expect((await accept(stranger.auth)).statusCode).toBe(404);
    expect((await accept(coach.auth, randomUUID())).statusCode).toBe(404);
    const accepted = await accept(coach.auth);
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ status: 'accepted', coach: { id: coach.id, name: coach.name } });
    expect((await accept(coach.auth)).json().accepted_at).toBe(accepted.json().accepted_at);

    expect((await liveSessionsOf(athlete.id, coach.auth)).statusCode).toBe(200);
    expect((await liveSessionsOf(athlete.id, stranger.auth)).statusCode).toBe(404);
    const stats = await s.app.inject({
      method: 'GET',
      url: `/v1/users/${athlete.id}/stats?from=2026-01-01&to=2026-12-31`,
      headers: coach.auth,
    });
    expect(stats.statusCode).toBe(200);

    // A real open stream of the athlete, held by the coach; an update reaches it while the grant holds.
    const stream = await openStream(`${s.baseUrl}/v1/live/users/${athlete.id}/stream`, coach.auth);
    expect(stream.status).toBe(200);
    const activityId = randomUUID();
    const snapshot = JSON.stringify({ activityId, userId: athlete.id, sport: 'running', status: 'active' });
    await waitFor(async () => {
      await s.redis.publish(liveKeys.userChannel(athlete.id), snapshot);
      return stream.text().includes(activityId);
    });

    expect(
      (await s.app.inject({ method: 'DELETE', url: `/v1/coach-grants/${g.id}`, headers: stranger.auth }))
        .statusCode,
    ).toBe(404);
    expect(stream.ended()).toBe(false);
    const revoked = await s.app.inject({
      method: 'DELETE',
      url: `/v1/coach-grants/${g.id}`,
      headers: athlete.auth,
    });
    expect(revoked.statusCode).toBe(204);
    const t0 = Date.now();
    await stream.done;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(stream.text()).toContain('event: revoked');

    expect((await liveSessionsOf(athlete.id, coach.auth)).statusCode).toBe(404);
    const reopened = await openStream(`${s.baseUrl}/v1/live/users/${athlete.id}/stream`, coach.auth);
    expect(reopened.status).toBe(404);
    // Ended is ended, for both sides: again 204, and gone from the lists.
    expect(
      (await s.app.inject({ method: 'DELETE', url: `/v1/coach-grants/${g.id}`, headers: coach.auth }))
        .statusCode,
    ).toBe(204);
    expect((await accept(coach.auth)).statusCode).toBe(404);
    expect(await lists(coach.auth)).toEqual({ given: [], received: [] });

    // A new grant is a new one, pending again.
    const renewed = await grant();
    expect(renewed.statusCode).toBe(201);
    expect(renewed.json().id).not.toBe(g.id);
    expect((await liveSessionsOf(athlete.id, coach.auth)).statusCode).toBe(404);
  });

  test('the coach ends a grant; a stream held by another viewer stays open; no grant to oneself', async () => {
    const athlete = await s.user();
    const coach = await s.user();
    const other = await s.user();
    const give = async (email: string) =>
      (
        await s.app.inject({
          method: 'POST',
          url: '/v1/coach-grants',
          headers: athlete.auth,
          payload: { coach_email: email },
        })
      ).json().id as string;
    const g1 = await give(coach.email);
    const g2 = await give(other.email);
    for (const [id, who] of [
      [g1, coach],
      [g2, other],
    ] as const)
      expect(
        (await s.app.inject({ method: 'POST', url: `/v1/coach-grants/${id}/accept`, headers: who.auth }))
          .statusCode,
      ).toBe(200);
    const held = await openStream(`${s.baseUrl}/v1/live/users/${athlete.id}/stream`, other.auth);
    const own = await openStream(`${s.baseUrl}/v1/live/users/${athlete.id}/stream`, athlete.auth);
    const coachs = await openStream(`${s.baseUrl}/v1/live/users/${athlete.id}/stream`, coach.auth);
    expect([held.status, own.status, coachs.status]).toEqual([200, 200, 200]);

    expect(
      (await s.app.inject({ method: 'DELETE', url: `/v1/coach-grants/${g1}`, headers: coach.auth }))
        .statusCode,
    ).toBe(204);
    await coachs.done;
    expect(coachs.text()).toContain('event: revoked');
    expect([held.ended(), own.ended()]).toEqual([false, false]);
    expect((await liveSessionsOf(athlete.id, other.auth)).statusCode).toBe(200);
    held.close();
    own.close();

    const self = await s.app.inject({
      method: 'POST',
      url: '/v1/coach-grants',
      headers: athlete.auth,
      payload: { coach_email: athlete.email },
    });
    expect([self.statusCode, self.json().code]).toEqual([400, 'validation_failed']);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
