import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { liveKeys } from '../../../schemas/live-keys.js';
import {
  ACCESS_REVOKED_CHANNEL,
  type AccessRevoked,
  type LiveAthlete,
  liveAthletesVisibleTo,
  principalOf,
  visibleLive,
} from '../access.js';
import { STREAM_TICKET_TTL_S, type StreamTickets } from '../auth/stream-tickets.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { LiveHub } from '../live-hub.js';
import { isoTime, problemResponse, SSE_EVENT, snakeKeys } from './shared.js';

const STRING_FIELDS = new Set(['activityId', 'userId', 'deviceId', 'sessionId', 'sport', 'status']);

/** The worker stores numbers as decimal strings and null as ''. */
export function parseLiveHash(h: Record<string, string>): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const [k, v] of Object.entries(h)) {
    if (STRING_FIELDS.has(k)) out[k] = v;
    else out[k] = v === '' ? null : Number(v);
  }
  return out;
}

/** A live session's id: the id of the activity it becomes (UUIDv5 of user id + client session id). */
const ActivityId = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description:
    "The live session's id, which is also the id of the activity it becomes (GET /v1/activities/{activityId})",
});

/** A live snapshot as the worker stores and publishes it (camelCase; the contract of schemas/live-keys.ts). */
interface StoredSnapshot {
  activityId: string;
  userId: string;
  ts: number;
  [k: string]: unknown;
}

/** What the API answers: snake_case, and the device time also as ISO 8601. */
const LiveSnapshot = Type.Object(
  {
    activity_id: ActivityId,
    session_id: Type.String({
      description: "The device's client session id; not unique across devices, so never an id to open",
    }),
    user_id: Type.String(),
    device_id: Type.String(),
    sport: Type.String(),
    status: Type.String(),
    ts: Type.Number({ description: 'device time of the latest sample, epoch ms' }),
    time: Type.String({ format: 'date-time', description: 'the same, ISO 8601 (UTC)' }),
    lat: Type.Union([Type.Number(), Type.Null()]),
    lon: Type.Union([Type.Number(), Type.Null()]),
    hr: Type.Union([Type.Number(), Type.Null()]),
    speed_mps: Type.Number(),
    pace_s_per_km: Type.Union([Type.Number(), Type.Null()]),
    distance_m: Type.Number(),
    elapsed_s: Type.Number(),
    moving_s: Type.Number(),
  },
  { additionalProperties: true },
);
type ApiSnapshot = Static<typeof LiveSnapshot>;

export const toApiSnapshot = (s: StoredSnapshot): ApiSnapshot =>
  ({ ...(snakeKeys(s) as object), ...(Number.isFinite(s.ts) ? { time: isoTime(s.ts) } : {}) }) as ApiSnapshot;

/** The 200 of a stream route: server-sent events, not JSON. */
const EventStream = {
  description: 'text/event-stream: `event: snapshot` with the JSON state; `event: revoked` when access ends',
  content: { 'text/event-stream': { schema: SSE_EVENT } },
};

const HEARTBEAT_MS = 15_000;

/** Starts a server-sent event stream on the raw response, with a heartbeat until it closes. */
function openEventStream(reply: FastifyReply): FastifyReply['raw'] {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  // Flush the headers now (an idle athlete has no snapshot to send yet) and set the retry delay.
  res.write('retry: 3000\n\n');
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  res.on('close', () => clearInterval(heartbeat));
  return res;
}

/** A stored snapshot (the worker's JSON) as the API's `event: snapshot`. */
const writeSnapshot = (res: FastifyReply['raw'], json: string) =>
  res.write(
    `event: snapshot\ndata: ${JSON.stringify(toApiSnapshot(JSON.parse(json) as StoredSnapshot))}\n\n`,
  );

const livePage = readFileSync(new URL('../live-page.html', import.meta.url), 'utf8');

/** `?ticket=`: how a browser's EventSource authenticates (POST /v1/live/tickets). */
const StreamQuery = Type.Object({
  ticket: Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'a single-use stream ticket, instead of the Authorization header',
    }),
  ),
});

export const liveRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps; tickets: StreamTickets }> = async (
  app,
  { deps, tickets },
) => {
  const hub = new LiveHub(deps.redisSub());
  app.addHook('onClose', async () => hub.close());

  const snapshot = async (activityId: string) => {
    const h = await deps.redis.hgetall(liveKeys.hash(activityId));
    // The worker writes every snapshot field; the hash is typed by that contract.
    return Object.keys(h).length === 0 ? null : (parseLiveHash(h) as unknown as StoredSnapshot);
  };

  /**
   * Server-sent events: the current state first, then every update published on `channel`.
   * Subscribes BEFORE reading the current state, and holds updates back until it is written, so
   * nothing published in between is lost or overtaken.
   */
  const stream = async (
    req: FastifyRequest,
    reply: FastifyReply,
    channel: string,
    /** the athlete watched, once known (a session awaited before its first snapshot has none yet) */
    athleteOf: () => string | undefined,
    loadInitial: () => Promise<unknown[]>,
    /** a published snapshot (JSON) that the caller may not see is dropped */
    admit: (json: string) => Promise<boolean> | boolean = () => true,
  ) => {
    const principal = principalOf(req);
    const res = openEventStream(reply);
    let held: string[] | null = [];
    const write = (json: string) => writeSnapshot(res, json);
    // In publication order, also when admitting one has to wait for a look-up.
    let queue = Promise.resolve();
    const send = (json: string) => {
      queue = queue.then(async () => {
        if (await admit(json)) write(json);
      });
    };
    const stop = await hub.listen(channel, (message) => (held ? held.push(message) : send(message)));
    // A revoked grant or a deleted account ends the stream of a viewer who no longer sees the athlete,
    // on whichever replica holds it; EventSource's reconnect then gets 404 and stops.
    const stopRevoked = await hub.listen(ACCESS_REVOKED_CHANNEL, (message) => {
      const r = JSON.parse(message) as AccessRevoked;
      const athlete = athleteOf();
      if (athlete !== r.athlete_id || (r.viewer_id !== null && r.viewer_id !== principal.user_id)) return;
      queue = queue.then(async () => {
        if (await visibleLive(deps.pg, principal, athlete).catch(() => false)) return;
        res.write('event: revoked\ndata: {}\n\n');
        res.end();
      });
    });
    res.on('close', () => {
      void stop();
      void stopRevoked();
    });
    for (const s of await loadInitial()) send(JSON.stringify(s));
    for (const m of held) send(m);
    held = null;
  };

  /**
   * The coach's board: every live session of every athlete whose live sessions the caller may see (a coach
   * grant, or a member sharing with the staff of a group the caller runs: visibleLive), on ONE stream
   * (a browser opens at most 6 connections per host over HTTP/1.1, so one stream per athlete cannot show
   * 300). The athletes are those visible when the stream opens; a grant that ends drops its athlete with
   * `event: revoked` (the stream goes on for the others), and a client that learns of a new grant reopens.
   * Same order rule as `stream`: subscribed before the current state is read, updates held until it is sent.
   */
  const boardStream = async (req: FastifyRequest, reply: FastifyReply) => {
    const principal = principalOf(req);
    const athletes = (await liveAthletesVisibleTo(deps.pg, principal)).map((a) => a.user_id);
    const res = openEventStream(reply);
    let held: string[] | null = [];
    const stops = new Map<string, Promise<() => Promise<void>>>();
    const onSnapshot = (message: string) => (held ? held.push(message) : writeSnapshot(res, message));
    for (const a of athletes) stops.set(a, hub.listen(liveKeys.userChannel(a), onSnapshot));
    let queue = Promise.resolve();
    const stopRevoked = hub.listen(ACCESS_REVOKED_CHANNEL, (message) => {
      const r = JSON.parse(message) as AccessRevoked;
      const stop = stops.get(r.athlete_id);
      if (!stop || (r.viewer_id !== null && r.viewer_id !== principal.user_id)) return;
      queue = queue.then(async () => {
        if (await visibleLive(deps.pg, principal, r.athlete_id).catch(() => false)) return;
        if (!stops.delete(r.athlete_id)) return;
        await (await stop)();
        res.write(`event: revoked\ndata: ${JSON.stringify({ athlete_id: r.athlete_id })}\n\n`);
      });
    });
    res.on('close', () => {
      for (const stop of stops.values()) void stop.then((f) => f());
      void stopRevoked.then((f) => f());
    });
    await Promise.all([...stops.values(), stopRevoked]);
    const initial = await Promise.all(athletes.map(activeSnapshots));
    for (const s of initial.flat()) writeSnapshot(res, JSON.stringify(s));
    for (const m of held) writeSnapshot(res, m);
    held = null;
  };

  /** The snapshot of a live session the caller may see; 404 for one that is missing or not theirs to see. */
  const visibleSnapshot = async (req: FastifyRequest, activityId: string) => {
    const s = await snapshot(activityId);
    if (!s || !(await visibleLive(deps.pg, principalOf(req), s.userId)))
      throw new ApiError('not_found', `no live session ${activityId}`);
    return s;
  };
  const checkAthlete = async (req: FastifyRequest, userId: string) => {
    if (!(await visibleLive(deps.pg, principalOf(req), userId)))
      throw new ApiError('not_found', `no athlete ${userId}`);
  };

  const activeSnapshots = async (userId: string) => {
    const ids = await deps.redis.zrevrange(liveKeys.active(userId), 0, 49);
    return (await Promise.all(ids.map(snapshot))).filter((s) => s !== null);
  };

  app.get(
    '/v1/live/sessions/:activityId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['live'],
        summary: 'Latest live state of a session in progress (or ended within the last hour)',
        params: Type.Object({ activityId: ActivityId }),
        response: { 200: LiveSnapshot, 404: problemResponse('not_found') },
      },
    },
    async (req) => toApiSnapshot(await visibleSnapshot(req, req.params.activityId)),
  );

  app.get(
    '/v1/live/users/:userId/sessions',
    {
      config: { access: 'user' },
      schema: {
        tags: ['live'],
        summary:
          "An athlete's sessions in progress with their latest state; each item's activity_id is the id to open",
        params: Type.Object({ userId: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: {
          200: Type.Object({ items: Type.Array(LiveSnapshot) }),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      await checkAthlete(req, req.params.userId);
      return { items: (await activeSnapshots(req.params.userId)).map(toApiSnapshot) };
    },
  );

  app.get(
    '/v1/live/sessions/:activityId/stream',
    {
      config: { access: 'stream' },
      schema: {
        querystring: StreamQuery,
        tags: ['live'],
        summary:
          'Server-sent events (event: snapshot) with the live state of one session, about every second. A session that has not started yet can be awaited; one of an athlete the caller may not see answers 404',
        params: Type.Object({ activityId: ActivityId }),
        response: { 200: EventStream, 404: problemResponse('not_found') },
      },
    },
    async (req, reply) => {
      const { activityId } = req.params;
      const principal = principalOf(req);
      const current = await snapshot(activityId);
      if (current && !(await visibleLive(deps.pg, principal, current.userId)))
        throw new ApiError('not_found', `no live session ${activityId}`);
      // A session awaited before its first snapshot: its athlete is known from that snapshot on (an
      // activity id never changes hands), and nothing is sent unless the caller may see them.
      let athlete = current?.userId;
      let admitted: boolean | undefined = current ? true : undefined;
      const admit = async (json: string) => {
        if (admitted === undefined) {
          const userId = String((JSON.parse(json) as { userId?: unknown }).userId);
          admitted = await visibleLive(deps.pg, principal, userId);
          if (admitted) athlete = userId;
        }
        return admitted;
      };
      await stream(
        req,
        reply,
        liveKeys.sessionChannel(activityId),
        () => athlete,
        async () => {
          const s = current ?? (await snapshot(activityId));
          return s && (await admit(JSON.stringify(s))) ? [s] : [];
        },
        admit,
      );
    },
  );

  app.get(
    '/v1/live/users/:userId/stream',
    {
      config: { access: 'stream' },
      schema: {
        querystring: StreamQuery,
        tags: ['live'],
        summary: "Server-sent events with every live session of one athlete (what a coach's page watches)",
        params: Type.Object({ userId: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: EventStream, 404: problemResponse('not_found') },
      },
    },
    async (req, reply) => {
      const { userId } = req.params;
      await checkAthlete(req, userId);
      await stream(
        req,
        reply,
        liveKeys.userChannel(userId),
        () => userId,
        () => activeSnapshots(userId),
      );
    },
  );

  app.get(
    '/v1/live/board/stream',
    {
      config: { access: 'stream' },
      schema: {
        querystring: StreamQuery,
        tags: ['live'],
        summary:
          'Server-sent events with every live session of every athlete whose live sessions the caller may see (GET /v1/live/athletes: a coach grant, or a member sharing with the staff of a group the caller runs), on one connection: `event: snapshot` as on the other streams, `event: revoked` with `{"athlete_id"}` when the caller loses sight of one of them (a grant ended, sharing turned off, a member gone, the caller no longer staff)',
        response: { 200: EventStream },
      },
    },
    boardStream,
  );

  app.get(
    '/v1/live/athletes',
    {
      config: { access: 'user' },
      schema: {
        tags: ['live'],
        summary:
          'The athletes whose live sessions the caller may see, by name (what the board stream carries): those who granted the caller access as a coach, and members sharing their live sessions with the staff of a group the caller owns or administers',
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                user_id: Type.String({ format: 'uuid' }),
                name: Type.String(),
                granted: Type.Boolean({
                  description:
                    'an accepted coach grant: their activities, stats and streams too; false: live sessions only',
                }),
                group_ids: Type.Array(Type.String({ format: 'uuid' }), {
                  description: 'groups of the caller in which they share live sessions with the staff',
                }),
              }),
            ),
          }),
        },
      },
    },
    async (req): Promise<{ items: LiveAthlete[] }> => ({
      items: await liveAthletesVisibleTo(deps.pg, principalOf(req)),
    }),
  );

  app.post(
    '/v1/live/tickets',
    {
      config: { access: 'user' },
      schema: {
        tags: ['live'],
        summary:
          'A single-use ticket (60 s) to open one live stream as the caller: GET …/stream?ticket=<ticket>, for EventSource, which cannot send the Authorization header',
        response: {
          201: Type.Object({ ticket: Type.String(), expires_in: Type.Integer({ description: 'seconds' }) }),
        },
      },
    },
    async (req, reply) => {
      const ticket = await tickets.issue(principalOf(req));
      reply.code(201);
      return { ticket, expires_in: STREAM_TICKET_TTL_S };
    },
  );

  // The page itself holds no data; what it shows comes from the routes above, with the viewer's token.
  app.get('/live', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return livePage;
  });
};
