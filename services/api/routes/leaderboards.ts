// Leaderboards: points, distance and count of a period, ranked by athlete, sport or group, under the
// current points rules (points-store.ts, docs/points.md); and an SSE stream of a board's rank changes.
//
// Who sees which board: an athlete's board is the people they share a group with (`group_id`: one of
// their groups; without it: all of them, and the caller); a challenge's board is its participants, seen
// by participants only; the group board ranks every group by its members' sums (names and totals of
// groups, never a person's figures). Any other board answers 404, like one that does not exist.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { QueryResultRow } from 'pg';
import { type Static, Type } from 'typebox';
import { type Day, parseIsoDate, startOfLocalDay } from '../../../pipelines/engagement/local-days.js';
import { periodOf, weekStartOf } from '../../../pipelines/engagement/periods.js';
import { SPORTS } from '../../../schemas/vocabulary.js';
import { principalOf } from '../access.js';
import { athleteClock, pgCall } from '../athlete-clock.js';
import type { Principal } from '../auth/access-tokens.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { LiveHub } from '../live-hub.js';
import { PointsStore, type PointsSum, pointsKeys } from '../points-store.js';
import { isoTime, problemResponse, SSE_EVENT } from './shared.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const HEARTBEAT_MS = 15_000;
/** rank changes of one burst of activities go out as one event */
const STREAM_DEBOUNCE_MS = 200;

export const BoardQuery = Type.Object({
  period: Type.String({
    pattern: `^(week|month|year|challenge:${UUID})$`,
    description:
      "week, month, year: the current one in the caller's time zone and first day of the week; challenge:{id}: that challenge's dates",
  }),
  by: Type.Optional(
    Type.Union([Type.Literal('user'), Type.Literal('sport'), Type.Literal('group')], { default: 'user' }),
  ),
  group_id: Type.Optional(
    Type.String({ format: 'uuid', description: 'by=user or by=sport: one of the caller’s groups' }),
  ),
  sport: Type.Optional(Type.Enum(SPORTS, { description: 'only activities of this sport' })),
  rank_by: Type.Optional(
    Type.Union([Type.Literal('sum'), Type.Literal('average')], {
      default: 'sum',
      description: 'by=group: rank by the members’ sum of points or by the per-member average',
    }),
  ),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'entries at the top' }),
  ),
});
type BoardQueryT = Static<typeof BoardQuery>;

const Entry = Type.Object({
  rank: Type.Integer({ description: '1 = most points; equal points share a rank' }),
  user_id: Type.Optional(Type.String({ format: 'uuid' })),
  name: Type.Optional(Type.String({ description: "the athlete's or the group's name" })),
  group_id: Type.Optional(Type.String({ format: 'uuid' })),
  members: Type.Optional(Type.Integer({ description: 'by=group: members counted' })),
  avg_points: Type.Optional(Type.Number({ description: 'by=group: points per member' })),
  sport: Type.Optional(Type.String()),
  points: Type.Number(),
  distance_m: Type.Number(),
  activities: Type.Integer(),
});
type EntryT = Static<typeof Entry>;

const Total = Type.Object({
  points: Type.Number(),
  distance_m: Type.Number(),
  activities: Type.Integer(),
  athletes: Type.Integer({ description: 'athletes with at least one activity' }),
});

export const Board = Type.Object({
  period: Type.String(),
  from: Type.String({ format: 'date-time', description: 'first instant of the period, inclusive' }),
  to: Type.String({ format: 'date-time', description: 'end of the period, exclusive' }),
  by: Type.String(),
  group_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  sport: Type.Union([Type.String(), Type.Null()]),
  rules_version: Type.Integer({ description: 'the points rules version ranked by (GET /v1/points-rules)' }),
  entries: Type.Array(Entry, { description: 'the top `limit`' }),
  mine: Type.Array(Entry, {
    description: "the caller's own entry (by=user) or their groups' (by=group), also outside the top",
  }),
  board_total: Type.Object(Total.properties, { description: 'everyone on this board' }),
  company_total: Type.Object(Total.properties, { description: 'every athlete, in the same period' }),
});
type BoardT = Static<typeof Board>;

interface Ranked {
  key: string;
  entry: Omit<EntryT, 'rank'>;
  rankValue: number;
}

/** Competition ranking (1, 2, 2, 4) by `rankValue`, ties broken by distance then key for a stable order. */
export function rank(rows: Ranked[]): (EntryT & { key: string })[] {
  const sorted = [...rows].sort(
    (a, b) =>
      b.rankValue - a.rankValue || b.entry.distance_m - a.entry.distance_m || a.key.localeCompare(b.key),
  );
  let rankNow = 0;
  let last = Number.NaN;
  return sorted.map((r, i) => {
    if (r.rankValue !== last) {
      rankNow = i + 1;
      last = r.rankValue;
    }
    return { ...r.entry, rank: rankNow, key: r.key };
  });
}

function total(sums: PointsSum[]) {
  const athletes = new Set<string>();
  let points = 0;
  let distance = 0;
  let activities = 0;
  for (const s of sums) {
    points += s.points;
    distance += s.distance_m;
    activities += s.activities;
    if (s.activities > 0) athletes.add(s.user_id);
  }
  return { points, distance_m: distance, activities, athletes: athletes.size };
}

export const leaderboardRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const points = new PointsStore(deps.pg, deps.clickhouse, deps.clickhouseDatabase, deps.redis);
  const q = <T extends object>(text: string, values: unknown[]) =>
    pgCall(() => deps.pg.query<T & QueryResultRow>(text, values));

  /** The period's [from, to) in ms, and for a challenge its participants. */
  const periodRange = async (caller: Principal, period: string) => {
    if (period.startsWith('challenge:')) {
      const id = period.slice('challenge:'.length);
      const c = await q<{ start_date: string; end_date: string; timezone: string | null }>(
        `SELECT to_char(start_date, 'YYYY-MM-DD') AS start_date, to_char(end_date, 'YYYY-MM-DD') AS end_date, timezone
           FROM challenges WHERE id = $1`,
        [id],
      );
      const row = c.rows[0];
      const parts = await q<{ user_id: string }>(
        `SELECT user_id FROM challenge_participants WHERE challenge_id = $1 AND state <> 'unjoined'`,
        [id],
      );
      const users = parts.rows.map((r) => r.user_id);
      // not a participant: the same answer as no such challenge
      if (!row || !users.includes(caller.user_id))
        throw new ApiError('challenge_not_found', `no challenge ${id}`);
      const tz = row.timezone ?? 'UTC';
      const from = parseIsoDate(row.start_date)!;
      const to = parseIsoDate(row.end_date)!;
      return { fromMs: startOfLocalDay(from, tz), toMs: startOfLocalDay(to + 1, tz), participants: users };
    }
    const clock = await athleteClock(deps.pg, caller.user_id);
    let start: Day;
    let end: Day;
    if (period === 'week') {
      start = weekStartOf(clock.day, clock.weekStart);
      end = start + 6;
    } else {
      const p = periodOf({ kind: period as 'month' | 'year', weekStart: clock.weekStart }, clock.day)!;
      start = p.start;
      end = p.end;
    }
    return {
      fromMs: startOfLocalDay(start, clock.timezone),
      toMs: startOfLocalDay(end + 1, clock.timezone),
      participants: null as string[] | null,
    };
  };

  /** The athletes of a by=user or by=sport board, or 404 when the caller may not see it. */
  const population = async (
    caller: Principal,
    groupId: string | undefined,
    participants: string[] | null,
  ) => {
    let users: string[];
    if (groupId) {
      const m = await q<{ user_id: string }>('SELECT user_id FROM group_members WHERE group_id = $1', [
        groupId,
      ]);
      users = m.rows.map((r) => r.user_id);
      if (!users.includes(caller.user_id)) throw new ApiError('not_found', `no group ${groupId}`);
    } else {
      const m = await q<{ user_id: string }>(
        `SELECT DISTINCT o.user_id FROM group_members mine JOIN group_members o ON o.group_id = mine.group_id
           WHERE mine.user_id = $1`,
        [caller.user_id],
      );
      users = [...new Set([caller.user_id, ...m.rows.map((r) => r.user_id)])];
    }
    if (participants) {
      const inChallenge = new Set(participants);
      users = users.filter((u) => inChallenge.has(u));
    }
    return users.sort();
  };

  const names = async (table: 'users' | 'groups', ids: string[]) => {
    if (ids.length === 0) return new Map<string, string>();
    const r = await q<{ id: string; name: string }>(
      `SELECT id, name FROM ${table} WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(r.rows.map((x) => [x.id, x.name]));
  };

  /** The board as the caller sees it; also what the stream sends. */
  const leaderboard = async (caller: Principal, query: BoardQueryT): Promise<BoardT> => {
    const by = query.by ?? 'user';
    const limit = query.limit ?? 20;
    const { fromMs, toMs, participants } = await periodRange(caller, query.period);
    const version = await points.requireCurrent();
    const sport = query.sport;
    const company = await points.cached(['company', version, fromMs, toMs, sport ?? ''], async () =>
      total(await points.sums(version, fromMs, toMs, null, sport)),
    );
    let ranked: (EntryT & { key: string })[];
    let mineKeys: string[];
    let boardTotal: Static<typeof Total>;
    if (by === 'group') {
      const groups = await q<{ id: string; name: string; members: string[] }>(
        `SELECT g.id, g.name, array_agg(m.user_id::text) AS members
           FROM groups g JOIN group_members m ON m.group_id = g.id GROUP BY g.id, g.name`,
        [],
      );
      const inChallenge = participants ? new Set(participants) : null;
      const sums = await points.cached(
        ['users', version, fromMs, toMs, sport ?? '', participants ?? 'all'],
        () => points.sums(version, fromMs, toMs, participants, sport),
      );
      const perUser = new Map<string, { points: number; distance_m: number; activities: number }>();
      for (const s of sums) {
        const u = perUser.get(s.user_id) ?? { points: 0, distance_m: 0, activities: 0 };
        u.points += s.points;
        u.distance_m += s.distance_m;
        u.activities += s.activities;
        perUser.set(s.user_id, u);
      }
      const counted = new Set<string>();
      const rows: Ranked[] = [];
      for (const g of groups.rows) {
        const members = inChallenge ? g.members.filter((m) => inChallenge.has(m)) : g.members;
        if (members.length === 0) continue;
        let pts = 0;
        let dist = 0;
        let acts = 0;
        for (const m of members) {
          const u = perUser.get(m);
          counted.add(m);
          if (!u) continue;
          pts += u.points;
          dist += u.distance_m;
          acts += u.activities;
        }
        const avg = pts / members.length;
        rows.push({
          key: g.id,
          rankValue: query.rank_by === 'average' ? avg : pts,
          entry: {
            group_id: g.id,
            name: g.name,
            members: members.length,
            points: pts,
            avg_points: avg,
            distance_m: dist,
            activities: acts,
          },
        });
      }
      ranked = rank(rows);
      mineKeys = groups.rows.filter((g) => g.members.includes(caller.user_id)).map((g) => g.id);
      boardTotal = total(sums.filter((s) => counted.has(s.user_id)));
    } else {
      const users = await population(caller, query.group_id, participants);
      const sums = await points.cached(['users', version, fromMs, toMs, sport ?? '', users], () =>
        points.sums(version, fromMs, toMs, users, sport),
      );
      const rows = new Map<string, Ranked>();
      if (by === 'user') {
        for (const u of users)
          rows.set(u, {
            key: u,
            rankValue: 0,
            entry: { user_id: u, points: 0, distance_m: 0, activities: 0 },
          });
        for (const s of sums) {
          const r = rows.get(s.user_id)!;
          r.entry.points += s.points;
          r.entry.distance_m += s.distance_m;
          r.entry.activities += s.activities;
          r.rankValue = r.entry.points;
        }
        mineKeys = [caller.user_id];
      } else {
        for (const s of sums) {
          const r = rows.get(s.sport) ?? {
            key: s.sport,
            rankValue: 0,
            entry: { sport: s.sport, points: 0, distance_m: 0, activities: 0 },
          };
          r.entry.points += s.points;
          r.entry.distance_m += s.distance_m;
          r.entry.activities += s.activities;
          r.rankValue = r.entry.points;
          rows.set(s.sport, r);
        }
        mineKeys = [];
      }
      ranked = rank([...rows.values()]);
      boardTotal = total(sums);
    }
    const top = ranked.slice(0, limit);
    const mine = ranked.filter((r) => mineKeys.includes(r.key));
    const shown = [...top, ...mine];
    if (by === 'user') {
      const n = await names('users', [...new Set(shown.map((e) => e.user_id!))]);
      for (const e of shown) e.name = n.get(e.user_id!) ?? '';
    }
    const strip = ({ key: _key, ...e }: EntryT & { key: string }): EntryT => e;
    return {
      period: query.period,
      from: isoTime(fromMs),
      to: isoTime(toMs),
      by,
      group_id: query.group_id ?? null,
      sport: sport ?? null,
      rules_version: version,
      entries: top.map(strip),
      mine: mine.map(strip),
      board_total: boardTotal,
      company_total: company,
    };
  };

  const errors = {
    404: problemResponse('not_found', 'challenge_not_found'),
    503: problemResponse('dependency_unavailable'),
  };

  app.get(
    '/leaderboards',
    {
      config: { access: 'user' },
      schema: {
        tags: ['leaderboards'],
        summary: 'A leaderboard: points, distance and count of a period, by athlete, sport or group',
        description:
          "Ranks by the current points rules. by=user: the athletes of one of the caller's groups (group_id) or of all of them; by=sport: the same athletes' points per sport; by=group: every group, by its members' sum or per-member average. A challenge's board holds its participants and is seen by them only. `mine` is the caller's own place even outside the top. 404 for a board the caller may not see.",
        querystring: BoardQuery,
        response: { 200: Board, ...errors },
      },
    },
    async (req) => leaderboard(principalOf(req), req.query),
  );

  const hub = new LiveHub(deps.redisSub());
  app.addHook('onClose', async () => hub.close());

  /** What moved between two boards: entries (top and mine) whose rank or points changed, came or went. */
  const changes = (before: BoardT, after: BoardT) => {
    const keyOf = (e: EntryT) => e.user_id ?? e.group_id ?? e.sport ?? '';
    const index = (b: BoardT) => new Map([...b.entries, ...b.mine].map((e) => [keyOf(e), e]));
    const a = index(before);
    const b = index(after);
    const out: { key: string; rank: number | null; previous_rank: number | null; points: number | null }[] =
      [];
    for (const [k, e] of b) {
      const old = a.get(k);
      if (!old || old.rank !== e.rank || old.points !== e.points)
        out.push({ key: k, rank: e.rank, previous_rank: old?.rank ?? null, points: e.points });
    }
    for (const [k, old] of a)
      if (!b.has(k)) out.push({ key: k, rank: null, previous_rank: old.rank, points: null });
    return out;
  };

  app.get(
    '/leaderboards/stream',
    {
      config: { access: 'stream' },
      schema: {
        tags: ['leaderboards'],
        summary:
          'Server-sent events of one leaderboard: `event: board` with the board first, then `event: ranks` with the entries whose rank or points changed and the new board, within seconds of an activity',
        querystring: Type.Intersect([
          BoardQuery,
          Type.Object({
            ticket: Type.Optional(
              Type.String({
                maxLength: 64,
                description: 'a single-use stream ticket (POST /v1/live/tickets)',
              }),
            ),
          }),
        ]),
        response: {
          200: {
            description: 'text/event-stream: `event: board`, then `event: ranks` with {changes, board}',
            content: { 'text/event-stream': { schema: SSE_EVENT } },
          },
          ...errors,
        },
      },
    },
    async (req: FastifyRequest<{ Querystring: BoardQueryT & { ticket?: string } }>, reply) => {
      const caller = principalOf(req);
      const { ticket: _ticket, ...query } = req.query;
      // Subscribed before the first board is read, so a change in between is not lost.
      let pending: NodeJS.Timeout | null = null;
      let dirty = false;
      let last: BoardT | null = null;
      let closed = false;
      const res = reply.raw;
      const refresh = async () => {
        pending = null;
        if (closed || !last) return;
        try {
          const next = await leaderboard(caller, query);
          const moved = changes(last, next);
          last = next;
          if (moved.length > 0)
            res.write(`event: ranks\ndata: ${JSON.stringify({ changes: moved, board: next })}\n\n`);
        } catch (err) {
          req.log.warn({ err }, 'leaderboard stream refresh failed');
        }
      };
      const stop = await hub.listen(pointsKeys.changed(points.store), () => {
        if (!last) {
          dirty = true;
          return;
        }
        pending ??= setTimeout(() => void refresh(), STREAM_DEBOUNCE_MS);
      });
      try {
        last = await leaderboard(caller, query);
      } catch (err) {
        await stop();
        throw err;
      }
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 3000\n\nevent: board\ndata: ${JSON.stringify(last)}\n\n`);
      if (dirty) pending ??= setTimeout(() => void refresh(), STREAM_DEBOUNCE_MS);
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      res.on('close', () => {
        closed = true;
        clearInterval(heartbeat);
        if (pending) clearTimeout(pending);
        void stop();
      });
    },
  );
};
