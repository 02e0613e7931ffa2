import { afterAll, beforeAll, expect, test } from 'vitest';
import { demoCoach } from '../../scripts/demo-coach.js';
import { type ApiStack, startApiStack } from '../support/api-stack.js';

let s: ApiStack;
beforeAll(async () => {
  s = await startApiStack();
});
afterAll(async () => s?.close());

test("the demo's coach signs in and sees the load generator's athlete (who had no password)", async () => {
  const athlete = (
    await s.pool.query<{ id: string }>(
      `INSERT INTO users (email, name) VALUES ('load-${s.run}@load.invalid', 'load') RETURNING id`,
    )
  ).rows[0]!.id;
  const c = await demoCoach(s.pool, s.baseUrl, athlete);
  const login = await s.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email: c.email, password: c.password },
  });
  expect(login.statusCode).toBe(200);
  const auth = { authorization: `Bearer ${login.json().access_token}` };
  const grants = (await s.app.inject({ method: 'GET', url: '/v1/coach-grants', headers: auth })).json();
  expect(grants.received).toEqual([expect.objectContaining({ id: c.grantId, status: 'accepted' })]);
  const live = await s.app.inject({
    method: 'GET',
    url: `/v1/live/users/${athlete}/sessions`,
    headers: auth,
  });
  expect(live.statusCode).toBe(200);
});
