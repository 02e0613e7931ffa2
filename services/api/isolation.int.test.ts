import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { liveKeys } from '../../schemas/live-keys.js';
import { type ApiStack, openStream, type SignedIn, startApiStack } from '../../test/support/api-stack.js';
import { PointsStore } from './points-store.js';

/**
 * The isolation matrix (issue 12): every route of `app.routeTable()` × every kind of caller → the status
 * it must answer, against the real PostgreSQL, Redis and ClickHouse. The table below is the contract: a
 * route missing from it (a new one) or listed but gone fails the first test, so adding a route means
 * saying here who may call it.
 *
 * Callers: `owner` is athlete A, the subject of every athlete-scoped request; `coach` holds an accepted
 * grant of A; `revoked` held one that A ended; `other` is an unrelated athlete; `support` and `admin` hold
 * those roles (and no grant); `staff` owns a group in which A shares live sessions with the staff, and
 * `groupmate` is a plain member of it (membership alone opens nothing). Routes about the caller themself (`/users/me`, their devices, goals) are
 * asked by each caller about their own things.
 */
const CALLERS = [
  'anonymous',
  'owner',
  'other',
  'coach',
  'revoked',
  'support',
  'admin',
  'staff',
  'groupmate',
] as const;
type Caller = (typeof CALLERS)[number];
type Expect = Record<Caller, number>;

/** The caller's own things: any signed-in caller, nobody anonymous. */
const self = (ok: number): Expect => ({
  anonymous: 401,
  owner: ok,
  other: ok,
  coach: ok,
  revoked: ok,
  support: ok,
  admin: ok,
  staff: ok,
  groupmate: ok,
});
/** Athlete A's data that a coach with a grant sees too; everyone else gets 404, as for what is not there. */
const athleteData = (ok: number): Expect => ({ ...self(404), owner: ok, coach: ok });
/** A's live sessions: what a coach sees, and the staff of a group in which A shares them (visibleLive). */
const liveData = (ok: number): Expect => ({ ...athleteData(ok), staff: ok });
/** Athlete A's own things (goals, devices): A only. */
const ownerOnly = (ok: number): Expect => ({ ...self(404), owner: ok });
/** Open to anyone, token or not. */
const open = (ok: number): Expect => ({ ...self(ok), anonymous: ok });
/** A power of a role: 403 to a signed-in caller without it. */
const role = (ok: number, ...roles: ('support' | 'admin')[]): Expect => ({
  ...self(403),
  ...Object.fromEntries(roles.map((r) => [r, ok])),
});

interface Fixture {
  s: ApiStack;
  users: Record<Exclude<Caller, 'anonymous'>, SignedIn>;
  activityId: string;
  liveActivityId: string;
  /** an import of A's (POST /v1/imports; no runner works on it here) */
  importId: string;
  /** an export of A's, queued where no runner takes it */
  exportId: string;
  goalId: string;
  grantId: string;
  challengeId: string;
  groupId: string;
  /** a fresh thing of A's, for routes that use one up */
  freshDevice(): Promise<string>;
  freshActivity(): Promise<string>;
  freshGoal(): Promise<string>;
  freshChallenge(joinedBy?: SignedIn): Promise<string>;
  freshGroup(member?: SignedIn): Promise<{ id: string; join_code: string }>;
  freshInvite(email: string): Promise<string>;
}

interface Request {
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
}
interface Case {
  request: (f: Fixture, who: Caller) => Request | Promise<Request>;
  expect: Expect;
  /**
   * an SSE route: opened over the socket, status read, then closed; a signed-in caller opens it twice, with
   * the Authorization header and with a stream ticket, and both must answer the same
   */
  sse?: boolean;
}

const today = () => new Date().toISOString().slice(0, 10);
const daysFromToday = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);

const MATRIX: Record<string, Case> = {
  'GET /docs': { request: () => ({ url: '/docs' }), expect: open(200) },
  'GET /docs/json': { request: () => ({ url: '/docs/json' }), expect: open(200) },
  'GET /docs/yaml': { request: () => ({ url: '/docs/yaml' }), expect: open(200) },
  'GET /docs/static/index.html': { request: () => ({ url: '/docs/static/index.html' }), expect: open(302) }, // swagger-ui sends it on to /docs
  'GET /docs/static/swagger-initializer.js': {
    request: () => ({ url: '/docs/static/swagger-initializer.js' }),
    expect: open(200),
  },
  'GET /docs/static/*': { request: () => ({ url: '/docs/static/swagger-ui.css' }), expect: open(200) },
  'GET /healthz': { request: () => ({ url: '/healthz' }), expect: open(200) },
  'GET /readyz': { request: () => ({ url: '/readyz' }), expect: open(200) },
  'GET /metrics': { request: () => ({ url: '/metrics' }), expect: open(200) },
  'GET /live': { request: () => ({ url: '/live' }), expect: open(200) },
  // the web app's static files: public (its data comes from the routes below, with the user's token)
  'GET /app': { request: () => ({ url: '/app' }), expect: open(301) },
  'GET /app/config.json': { request: () => ({ url: '/app/config.json' }), expect: open(200) },
  'GET /app/*': { request: () => ({ url: '/app/assets/not-built-here.js' }), expect: open(404) },

  'POST /v1/users': {
    request: () => ({
      url: '/v1/users',
      payload: {
        email: `new-${randomUUID()}@example.com`,
        password: 'a long enough passphrase',
        name: 'New',
        timezone: 'UTC',
      },
    }),
    expect: open(201),
  },
  'GET /v1/users/me': { request: () => ({ url: '/v1/users/me' }), expect: self(200) },
  'GET /v1/users/me/export': { request: () => ({ url: '/v1/users/me/export' }), expect: self(200) },
  // Every caller exports their own account; an export is its athlete's only.
  'POST /v1/users/me/exports': { request: () => ({ url: '/v1/users/me/exports' }), expect: self(202) },
  'GET /v1/users/me/exports/:exportId': {
    request: (f) => ({ url: `/v1/users/me/exports/${f.exportId}` }),
    expect: ownerOnly(200),
  },
  // A's export is on a queue no runner takes: never done, so A gets 409 export_not_ready, everyone else 404
  'GET /v1/users/me/exports/:exportId/download': {
    request: (f) => ({ url: `/v1/users/me/exports/${f.exportId}/download` }),
    expect: ownerOnly(409),
  },
  'PATCH /v1/users/me': {
    request: () => ({ url: '/v1/users/me', payload: { resting_hr: 50 } }),
    expect: self(200),
  },
  // With a wrong password: deleting the matrix's callers would end the matrix (account-deletion.int.test.ts).
  'DELETE /v1/users/me': {
    request: () => ({ url: '/v1/users/me', payload: { password: 'not the password at all' } }),
    expect: self(403),
  },
  'POST /v1/auth/login': {
    request: (f) => ({
      url: '/v1/auth/login',
      payload: { email: f.users.owner.email, password: 'a long enough passphrase' },
    }),
    expect: open(200),
  },
  'POST /v1/auth/refresh': {
    request: async (f) => ({
      url: '/v1/auth/refresh',
      payload: { refresh_token: (await f.s.signIn(f.users.owner.email)).refresh_token },
    }),
    expect: open(200),
  },
  // Ends the sign-in of the token's refresh family; the access token itself lives on until it expires.
  'POST /v1/auth/logout': { request: () => ({ url: '/v1/auth/logout' }), expect: self(204) },

  'POST /v1/devices': {
    request: () => ({ url: '/v1/devices', payload: { name: 'watch' } }),
    expect: self(201),
  },
  'GET /v1/devices': { request: () => ({ url: '/v1/devices' }), expect: self(200) },
  'DELETE /v1/devices/:deviceId': {
    request: async (f) => ({ url: `/v1/devices/${await f.freshDevice()}` }),
    expect: ownerOnly(204),
  },

  'POST /v1/coach-grants': {
    request: () => ({
      url: '/v1/coach-grants',
      payload: { coach_email: `coach-${randomUUID()}@example.com` },
    }),
    expect: self(201),
  },
  'GET /v1/coach-grants': { request: () => ({ url: '/v1/coach-grants' }), expect: self(200) },
  // The athlete sees the grant but may not accept it; only the coach it names does.
  'POST /v1/coach-grants/:grantId/accept': {
    request: (f) => ({ url: `/v1/coach-grants/${f.grantId}/accept` }),
    expect: { ...self(404), owner: 403, coach: 200 },
  },
  'DELETE /v1/coach-grants/:grantId': {
    request: async (f) => {
      const g = await f.s.app.inject({
        method: 'POST',
        url: '/v1/coach-grants',
        headers: f.users.owner.auth,
        payload: { coach_email: `coach-${randomUUID()}@example.com` },
      });
      return { url: `/v1/coach-grants/${g.json().id}` };
    },
    expect: ownerOnly(204),
  },

  // A's group: A is its owner, nobody else a member (membership is tested in groups.int.test.ts).
  'POST /v1/groups': {
    request: () => ({ url: '/v1/groups', payload: { name: 'g', kind: 'team' } }),
    expect: self(201),
  },
  'GET /v1/groups': { request: () => ({ url: '/v1/groups' }), expect: self(200) },
  'GET /v1/groups/:groupId': { request: (f) => ({ url: `/v1/groups/${f.groupId}` }), expect: ownerOnly(200) },
  'POST /v1/groups/:groupId/invites': {
    request: (f) => ({
      url: `/v1/groups/${f.groupId}/invites`,
      payload: { email: `i-${randomUUID()}@example.com` },
    }),
    expect: ownerOnly(201),
  },
  'GET /v1/group-invites': { request: () => ({ url: '/v1/group-invites' }), expect: self(200) },
  // An invitation to the caller's own e-mail into a fresh group of A's.
  'POST /v1/group-invites/:inviteId/accept': {
    request: async (f, who) => ({
      url: `/v1/group-invites/${await f.freshInvite(who === 'anonymous' ? 'nobody@example.com' : f.users[who].email)}/accept`,
    }),
    expect: self(200),
  },
  'POST /v1/group-joins': {
    request: async (f) => ({
      url: '/v1/group-joins',
      payload: { join_code: (await f.freshGroup()).join_code },
    }),
    expect: { ...self(200), owner: 200 },
  },
  // A removes the member of a fresh group of theirs; to anyone else that group is not there.
  'DELETE /v1/groups/:groupId/members/:userId': {
    request: async (f) => {
      const g = await f.freshGroup(f.users.other);
      return { url: `/v1/groups/${g.id}/members/${f.users.other.id}` };
    },
    expect: { ...ownerOnly(204), other: 204 },
  },
  // one's own membership of A's group (live sharing with its staff): A only; a non-member gets 404
  'PATCH /v1/groups/:groupId/membership': {
    request: (f) => ({
      url: `/v1/groups/${f.groupId}/membership`,
      payload: { share_live_with_staff: false },
    }),
    expect: ownerOnly(200),
  },
  'PATCH /v1/groups/:groupId/members/:userId': {
    request: async (f) => {
      const g = await f.freshGroup(f.users.other);
      return { url: `/v1/groups/${g.id}/members/${f.users.other.id}`, payload: { role: 'admin' } };
    },
    expect: { ...ownerOnly(200), other: 403 },
  },

  'GET /v1/activities': {
    request: (f) => ({ url: `/v1/activities?user_id=${f.users.owner.id}` }),
    expect: athleteData(200),
  },
  // Every caller uploads to their own account (the key is per caller): there is no one else's to write to.
  'POST /v1/activities': {
    request: () => ({
      url: '/v1/activities',
      payload: {
        type: 'strength',
        start_time: new Date().toISOString(),
        client_activity_id: randomUUID(),
        sets: [{ exercise: 'squat', reps: 5, weight_kg: 60 }],
      },
    }),
    expect: self(202),
  },
  // A coach sees the activity but may not change it.
  'PATCH /v1/activities/:activityId': {
    request: (f) => ({ url: `/v1/activities/${f.activityId}`, payload: { notes: 'felt good' } }),
    expect: { ...athleteData(200), coach: 403 },
  },
  'GET /v1/activities/:activityId': {
    request: (f) => ({ url: `/v1/activities/${f.activityId}` }),
    expect: athleteData(200),
  },
  'GET /v1/activities/:activityId/streams': {
    request: (f) => ({
      url: `/v1/activities/${f.activityId}/streams?keys=time,latlng,heartrate&resolution=low`,
    }),
    expect: athleteData(200),
  },
  // Every caller imports into their own account; an import is its athlete's only (a coach sees the activities).
  'POST /v1/imports': {
    request: () => ({
      url: '/v1/imports',
      headers: { 'content-type': 'application/octet-stream', 'idempotency-key': randomUUID() },
      payload: Buffer.from('<gpx></gpx>'),
    }),
    expect: self(202),
  },
  'GET /v1/imports/:importId': {
    request: (f) => ({ url: `/v1/imports/${f.importId}` }),
    expect: ownerOnly(200),
  },
  'GET /v1/activities/:activityId/export': {
    request: (f) => ({ url: `/v1/activities/${f.activityId}/export?format=gpx` }),
    expect: athleteData(200),
  },
  // A coach sees the activity but may not delete it.
  'DELETE /v1/activities/:activityId': {
    request: async (f) => ({ url: `/v1/activities/${await f.freshActivity()}` }),
    expect: { ...athleteData(204), coach: 403 },
  },
  'GET /v1/users/me/stats': { request: () => ({ url: '/v1/users/me/stats' }), expect: self(200) },
  'GET /v1/users/me/progress': {
    request: () => ({
      url: '/v1/users/me/progress?metric=distance&period=week&from=2026-01-01&to=2026-03-31',
    }),
    expect: self(200),
  },
  'GET /v1/users/:userId/stats': {
    request: (f) => ({ url: `/v1/users/${f.users.owner.id}/stats?from=2026-01-01&to=2026-12-31` }),
    expect: athleteData(200),
  },

  'POST /v1/goals': {
    request: () => ({
      url: '/v1/goals',
      payload: { goal_type: 'distance', period: 'week', target_value: 10_000 },
    }),
    expect: self(201),
  },
  'GET /v1/goals': { request: () => ({ url: '/v1/goals' }), expect: self(200) },
  'GET /v1/goals/:id': { request: (f) => ({ url: `/v1/goals/${f.goalId}` }), expect: ownerOnly(200) },
  'PATCH /v1/goals/:id': {
    request: (f) => ({ url: `/v1/goals/${f.goalId}`, payload: { target_value: 12_000 } }),
    expect: ownerOnly(200),
  },
  'DELETE /v1/goals/:id': {
    request: async (f) => ({ url: `/v1/goals/${await f.freshGoal()}` }),
    expect: ownerOnly(204),
  },
  'GET /v1/streaks': { request: () => ({ url: '/v1/streaks' }), expect: self(200) },

  'GET /v1/challenges': { request: () => ({ url: '/v1/challenges' }), expect: self(200) },
  'GET /v1/challenges/:id': {
    request: (f) => ({ url: `/v1/challenges/${f.challengeId}` }),
    expect: self(200),
  },
  'GET /v1/challenges/:id/progress': {
    request: (f) => ({ url: `/v1/challenges/${f.challengeId}/progress` }),
    expect: self(200),
  },
  'POST /v1/challenges/:id/join': {
    request: async (f) => ({ url: `/v1/challenges/${await f.freshChallenge()}/join` }),
    expect: self(200),
  },
  'POST /v1/challenges/:id/leave': {
    request: async (f, who) => ({
      url: `/v1/challenges/${await f.freshChallenge(who === 'anonymous' ? undefined : f.users[who])}/leave`,
    }),
    expect: self(200),
  },
  'POST /v1/challenges/:id/participants/:userId/complete': {
    request: async (f) => ({
      url: `/v1/challenges/${await f.freshChallenge(f.users.owner)}/participants/${f.users.owner.id}/complete`,
    }),
    expect: role(200, 'support', 'admin'),
  },
  'POST /v1/challenges/:id/participants/:userId/recalculate': {
    request: async (f) => ({
      url: `/v1/challenges/${await f.freshChallenge(f.users.owner)}/participants/${f.users.owner.id}/recalculate`,
    }),
    expect: role(200, 'support', 'admin'),
  },
  'POST /v1/challenges': {
    request: () => ({ url: '/v1/challenges', payload: challengeBody() }),
    expect: role(201, 'admin'),
  },
  'PATCH /v1/challenges/:id': {
    request: (f) => ({ url: `/v1/challenges/${f.challengeId}`, payload: { description: 'changed' } }),
    expect: role(200, 'admin'),
  },
  'POST /v1/challenges/:id/close': {
    request: async (f) => ({ url: `/v1/challenges/${await f.freshChallenge()}/close` }),
    expect: role(200, 'admin'),
  },

  'GET /v1/points-rules': { request: () => ({ url: '/v1/points-rules' }), expect: self(200) },
  'POST /v1/points-rules': {
    request: () => ({
      url: '/v1/points-rules',
      payload: {
        sports: [
          {
            sport: 'walking',
            per_km: 12,
            per_minute: 0,
            per_activity: 0,
            min_distance_m: 0,
            min_moving_s: 0,
          },
        ],
      },
    }),
    expect: role(201, 'admin'),
  },
  // a group board: its members only (A created the group); anyone else gets 404, as for no such group
  'GET /v1/leaderboards': {
    request: (f) => ({ url: `/v1/leaderboards?period=week&group_id=${f.groupId}` }),
    expect: ownerOnly(200),
  },
  'GET /v1/leaderboards/stream': {
    request: (f) => ({ url: `/v1/leaderboards/stream?period=week&group_id=${f.groupId}` }),
    expect: ownerOnly(200),
    sse: true,
  },

  'GET /v1/support/users/:userId': {
    request: (f) => ({ url: `/v1/support/users/${f.users.owner.id}` }),
    expect: role(200, 'support', 'admin'),
  },
  'GET /v1/support/users': {
    request: (f) => ({ url: `/v1/support/users?email=${encodeURIComponent(f.users.owner.email)}` }),
    expect: role(200, 'support', 'admin'),
  },

  'GET /v1/live/sessions/:activityId': {
    request: (f) => ({ url: `/v1/live/sessions/${f.liveActivityId}` }),
    expect: liveData(200),
  },
  'GET /v1/live/users/:userId/sessions': {
    request: (f) => ({ url: `/v1/live/users/${f.users.owner.id}/sessions` }),
    expect: liveData(200),
  },
  'POST /v1/live/tickets': { request: () => ({ url: '/v1/live/tickets' }), expect: self(201) },
  'GET /v1/live/sessions/:activityId/stream': {
    request: (f) => ({ url: `/v1/live/sessions/${f.liveActivityId}/stream` }),
    expect: liveData(200),
    sse: true,
  },
  'GET /v1/live/users/:userId/stream': {
    request: (f) => ({ url: `/v1/live/users/${f.users.owner.id}/stream` }),
    expect: liveData(200),
    sse: true,
  },
  // who the board shows, by name: A to the coach (grant) and to the staff (sharing), nobody to the others
  'GET /v1/live/athletes': { request: () => ({ url: '/v1/live/athletes' }), expect: self(200) },
  // every caller has a board: the sessions of the athletes whose live sessions they see (none for most)
  'GET /v1/live/board/stream': {
    request: () => ({ url: '/v1/live/board/stream' }),
    expect: self(200),
    sse: true,
  },
};

function challengeBody() {
  return {
    name: `matrix ${randomUUID().slice(0, 6)}`,
    rule: { kind: 'activities_per_week', per_period: 1, target: 4 },
    start_date: daysFromToday(-1),
    end_date: daysFromToday(30),
    timezone: 'UTC',
  };
}

let s: ApiStack;
let f: Fixture;

beforeAll(async () => {
  // a database of its own: the points rules and their current version are global state
  s = await startApiStack({ privatePg: true });
  // the boards rank by a computed version of the points rules
  await new PointsStore(s.pool, s.clickhouse, s.database, s.redis).catchUp();
  const [owner, other, coach, revoked, support, admin, staff, groupmate] = [
    await s.user({ name: 'Owner' }),
    await s.user(),
    await s.user(),
    await s.user(),
    await s.user({ roles: ['support'] }),
    await s.user({ roles: ['admin'] }),
    await s.user({ name: 'Staff' }),
    await s.user(),
  ];
  const as = (u: SignedIn, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    s.app.inject({ method, url, headers: u.auth, ...(payload === undefined ? {} : { payload }) });
  // staff's group: A and the groupmate are plain members, A shares live sessions with its staff
  const club = (await as(staff, 'POST', '/v1/groups', { name: 'club', kind: 'club' })).json();
  for (const u of [owner, groupmate])
    expect((await as(u, 'POST', '/v1/group-joins', { join_code: club.join_code })).statusCode).toBe(200);
  const share = { share_live_with_staff: true };
  expect((await as(owner, 'PATCH', `/v1/groups/${club.id}/membership`, share)).statusCode).toBe(200);
  const grantTo = async (u: SignedIn) => {
    const g = (await as(owner, 'POST', '/v1/coach-grants', { coach_email: u.email })).json().id as string;
    expect((await as(u, 'POST', `/v1/coach-grants/${g}/accept`)).statusCode).toBe(200);
    return g;
  };
  const grantId = await grantTo(coach);
  expect((await as(owner, 'DELETE', `/v1/coach-grants/${await grantTo(revoked)}`)).statusCode).toBe(204);

  const activity = async () => {
    const id = `act-${randomUUID()}`;
    await s.clickhouse.insert({
      table: `${s.database}.activities`,
      format: 'JSONEachRow',
      values: [
        {
          activity_id: id,
          user_id: owner.id,
          device_id: `d-${id}`,
          session_id: `s-${id}`,
          version: 1,
          sport: 'running',
          start_ts: Date.parse(`${today()}T06:00:00Z`),
          end_ts: Date.parse(`${today()}T07:00:00Z`),
          summary: JSON.stringify({ distanceM: 10_000 }),
        },
      ],
    });
    return id;
  };
  const activityId = await activity();
  await s.clickhouse.insert({
    table: `${s.database}.activity_streams`,
    format: 'JSONEachRow',
    values: [
      {
        activity_id: activityId,
        user_id: owner.id,
        version: 1,
        sport: 'running',
        sample_key: [0, 1],
        ts: [Date.parse(`${today()}T06:00:00Z`), Date.parse(`${today()}T06:00:01Z`)],
        lat: [47.37, 47.37001],
        lon: [8.54, 8.54],
        hr: [150, 151],
        present: [1 | 2 | 4 | 128, 1 | 2 | 4 | 128],
      },
    ],
  });
  const liveActivityId = randomUUID();
  await s.redis.hset(liveKeys.hash(liveActivityId), {
    activityId: liveActivityId,
    sessionId: 's1',
    userId: owner.id,
    deviceId: 'd1',
    sport: 'running',
    status: 'active',
    ts: String(Date.now()),
    lat: '47.37',
    lon: '8.54',
    hr: '150',
    speedMps: '3',
    paceSPerKm: '333',
    distanceM: '1000',
    elapsedS: '330',
    movingS: '330',
  });
  await s.redis.expire(liveKeys.hash(liveActivityId), 600);
  await s.redis.zadd(liveKeys.active(owner.id), Date.now(), liveActivityId);
  await s.redis.expire(liveKeys.active(owner.id), 600);

  const goal = async () =>
    (
      await as(owner, 'POST', '/v1/goals', { goal_type: 'distance', period: 'week', target_value: 5000 })
    ).json().id as string;
  const freshChallenge = async (joinedBy?: SignedIn) => {
    const c = await as(admin, 'POST', '/v1/challenges', challengeBody());
    expect(c.statusCode).toBe(201);
    const id = c.json().id as string;
    if (joinedBy) expect((await as(joinedBy, 'POST', `/v1/challenges/${id}/join`)).statusCode).toBe(200);
    return id;
  };
  const freshGroup = async (member?: SignedIn) => {
    const g = (await as(owner, 'POST', '/v1/groups', { name: 'matrix', kind: 'team' })).json();
    if (member)
      expect((await as(member, 'POST', '/v1/group-joins', { join_code: g.join_code })).statusCode).toBe(200);
    return { id: g.id as string, join_code: g.join_code as string };
  };
  const freshInvite = async (email: string) => {
    const g = await freshGroup();
    return (await as(owner, 'POST', `/v1/groups/${g.id}/invites`, { email })).json().id as string;
  };
  f = {
    s,
    groupId: (await freshGroup()).id,
    freshGroup,
    freshInvite,
    users: { owner, other, coach, revoked, support, admin, staff, groupmate },
    activityId,
    liveActivityId,
    importId: (
      await s.app.inject({
        method: 'POST',
        url: '/v1/imports',
        headers: { ...owner.auth, 'content-type': 'application/octet-stream' },
        payload: Buffer.from(`<gpx>${randomUUID()}</gpx>`),
      })
    ).json().import_id as string,
    exportId: await (async () => {
      const id = randomUUID();
      await s.pool.query(
        "INSERT INTO account_exports (id, user_id, object_key, queue) VALUES ($1, $2, 'none', 'no-runner')",
        [id, owner.id],
      );
      return id;
    })(),
    goalId: await goal(),
    grantId,
    challengeId: await freshChallenge(),
    freshActivity: activity,
    freshDevice: async () => (await as(owner, 'POST', '/v1/devices', { name: 'spare' })).json().device_id,
    freshGoal: goal,
    freshChallenge,
  };
}, 120_000);

afterAll(async () => {
  if (f) await s.redis.del(liveKeys.hash(f.liveActivityId), liveKeys.active(f.users.owner.id));
  await s?.close();
});

describe('isolation matrix', () => {
  test('every route of the route table has a row, and every row a route', () => {
    const routes = s.app.routeTable().map((r) => `${r.method} ${r.url}`);
    expect(routes.filter((r) => !(r in MATRIX))).toEqual([]);
    expect(Object.keys(MATRIX).filter((k) => !routes.includes(k))).toEqual([]);
  });

  test.each(Object.keys(MATRIX))('%s', async (key) => {
    const c = MATRIX[key]!;
    const method = key.slice(0, key.indexOf(' ')) as 'GET' | 'POST' | 'PATCH' | 'DELETE';
    const got: Partial<Expect> = {};
    // The owner last: some requests use a thing of A's up, and the others must not have found it first.
    for (const who of [
      'anonymous',
      'other',
      'revoked',
      'support',
      'admin',
      'groupmate',
      'staff',
      'coach',
      'owner',
    ] as const) {
      const req = await c.request(f, who);
      const headers: Record<string, string> = who === 'anonymous' ? {} : f.users[who].auth;
      if (c.sse) {
        const stream = await openStream(`${s.baseUrl}${req.url}`, headers);
        got[who] = stream.status;
        stream.close();
        if (who !== 'anonymous') {
          const t = await s.app.inject({ method: 'POST', url: '/v1/live/tickets', headers });
          const sep = req.url.includes('?') ? '&' : '?';
          const byTicket = await openStream(`${s.baseUrl}${req.url}${sep}ticket=${t.json().ticket}`, {});
          byTicket.close();
          expect([who, 'ticket', byTicket.status]).toEqual([who, 'ticket', stream.status]);
        }
      } else {
        const res = await s.app.inject({
          method,
          url: req.url,
          headers: { ...headers, ...req.headers },
          ...(req.payload === undefined ? {} : { payload: req.payload as object }),
        });
        got[who] = res.statusCode;
        if (res.statusCode >= 400) expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    }
    expect(got).toEqual(c.expect);
  });
});
