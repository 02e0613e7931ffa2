import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { ACCESS_REVOKED_CHANNEL, type AccessRevoked, principalOf } from '../access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { problemResponse } from './shared.js';

/**
 * Groups (teams, departments, clubs). A member sees the group and its members' names and roles; owners
 * and admins also see e-mails and the join code, invite, and remove members; only owners change roles.
 * Membership never shows anyone's activities: that takes a coach grant (access.ts visibleAthlete). A member
 * may share their LIVE sessions with the group's staff (owners and admins: the coach's board), off unless
 * they turn it on (`PATCH /v1/groups/{id}/membership`); every change that ends such sight is published on
 * ACCESS_REVOKED_CHANNEL, so open live streams drop the athlete within seconds (access.ts visibleLive).
 * A caller who is not a member gets 404 for the group, as for one that does not exist.
 */
const ROLES = ['owner', 'admin', 'member'] as const;
type Role = (typeof ROLES)[number];
const GroupRole = Type.Enum(ROLES);
const KIND = Type.Enum(['team', 'department', 'club'] as const);
const Id = Type.String({ format: 'uuid' });

const GroupSummary = Type.Object({
  id: Id,
  name: Type.String(),
  kind: Type.String(),
  my_role: GroupRole,
  member_count: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
});
const Member = Type.Object({
  user_id: Id,
  name: Type.String(),
  role: GroupRole,
  joined_at: Type.String({ format: 'date-time' }),
  email: Type.Optional(Type.String({ description: 'shown to owners and admins only' })),
  share_live_with_staff: Type.Optional(
    Type.Boolean({
      description:
        "whether the member shares their live sessions with the group's owners and admins (the coach's live board); shown to the member themself and to owners and admins",
    }),
  ),
});
const Group = Type.Object({
  ...GroupSummary.properties,
  join_code: Type.Union([Type.String(), Type.Null()], {
    description: 'shown to owners and admins; anyone with it may join as a member',
  }),
  members: Type.Array(Member),
});
const Invite = Type.Object({
  id: Id,
  group: Type.Object({ id: Id, name: Type.String(), kind: Type.String() }),
  email: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

const joinCode = () => randomBytes(9).toString('base64url');
const canManage = (r: Role) => r === 'owner' || r === 'admin';

export const groupRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const db = deps.pg;

  /** The caller's role in the group; 404 when they are not a member (or there is no such group). */
  const roleIn = async (groupId: string, userId: string): Promise<Role> => {
    const { rows } = await db.query<{ role: Role }>(
      'SELECT role FROM group_members WHERE group_id = $1 AND user_id = $2',
      [groupId, userId],
    );
    if (!rows[0]) throw new ApiError('not_found', `no group ${groupId}`);
    return rows[0].role;
  };

  const summaries = async (userId: string, groupId?: string): Promise<Static<typeof GroupSummary>[]> => {
    const { rows } = await db.query<{
      id: string;
      name: string;
      kind: string;
      role: Role;
      member_count: string;
      created_at: Date;
    }>(
      `SELECT g.id, g.name, g.kind, m.role, g.created_at,
              (SELECT count(*) FROM group_members x WHERE x.group_id = g.id) AS member_count
       FROM group_members m JOIN groups g ON g.id = m.group_id
       WHERE m.user_id = $1 AND ($2::uuid IS NULL OR g.id = $2)
       ORDER BY g.created_at DESC, g.id`,
      [userId, groupId ?? null],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      my_role: r.role,
      member_count: Number(r.member_count),
      created_at: r.created_at.toISOString(),
    }));
  };

  const groupView = async (groupId: string, userId: string): Promise<Static<typeof Group>> => {
    const [summary] = await summaries(userId, groupId);
    if (!summary) throw new ApiError('not_found', `no group ${groupId}`);
    const manager = canManage(summary.my_role);
    const [{ rows: g }, { rows: members }] = await Promise.all([
      db.query<{ join_code: string }>('SELECT join_code FROM groups WHERE id = $1', [groupId]),
      db.query<{
        user_id: string;
        name: string;
        email: string;
        role: Role;
        joined_at: Date;
        share_live_with_staff: boolean;
      }>(
        `SELECT m.user_id, u.name, u.email, m.role, m.joined_at, m.share_live_with_staff
         FROM group_members m JOIN users u ON u.id = m.user_id
         WHERE m.group_id = $1 ORDER BY array_position(ARRAY['owner','admin','member'], m.role), u.name, m.user_id`,
        [groupId],
      ),
    ]);
    return {
      ...summary,
      join_code: manager ? g[0]!.join_code : null,
      members: members.map((m) => ({
        user_id: m.user_id,
        name: m.name,
        role: m.role,
        joined_at: m.joined_at.toISOString(),
        ...(manager ? { email: m.email } : {}),
        ...(manager || m.user_id === userId ? { share_live_with_staff: m.share_live_with_staff } : {}),
      })),
    };
  };

  const join = async (groupId: string, userId: string) => {
    await db.query(
      `INSERT INTO group_members (group_id, user_id, role) VALUES ($1, $2, 'member') ON CONFLICT DO NOTHING`,
      [groupId, userId],
    );
    return groupView(groupId, userId);
  };

  const emailOf = async (userId: string) =>
    (await db.query<{ email: string }>('SELECT lower(email) AS email FROM users WHERE id = $1', [userId]))
      .rows[0]?.email ?? '';

  /**
   * Tells open live streams that viewers may have lost sight of athletes (visibleLive is asked again there):
   * `athleteId` stopped sharing or left (every viewer asks), or `staffId` stopped being staff of `groupId`
   * (they ask about each member sharing there). After the change is stored, like a grant's end.
   */
  const publishRevoked = async (change: { athleteId: string } | { staffId: string; groupId: string }) => {
    const messages: AccessRevoked[] =
      'athleteId' in change
        ? [{ athlete_id: change.athleteId, viewer_id: null }]
        : (
            await db.query<{ user_id: string }>(
              'SELECT user_id FROM group_members WHERE group_id = $1 AND share_live_with_staff AND user_id <> $2',
              [change.groupId, change.staffId],
            )
          ).rows.map((r) => ({ athlete_id: r.user_id, viewer_id: change.staffId }));
    if (messages.length === 0) return;
    const pipe = deps.redis.pipeline();
    for (const m of messages) pipe.publish(ACCESS_REVOKED_CHANNEL, JSON.stringify(m));
    const results = await pipe.exec();
    const failed = results?.find(([err]) => err)?.[0];
    if (failed) throw failed;
  };

  const GroupParams = Type.Object({ groupId: Id });
  const MemberParams = Type.Object({ groupId: Id, userId: Id });

  app.post(
    '/groups',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary: 'Create a group; the caller is its owner',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 200 }), kind: KIND },
          { additionalProperties: false },
        ),
        response: { 201: Group, 400: problemResponse('validation_failed', 'invalid_json') },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const { rows } = await db.query<{ id: string }>(
        `WITH g AS (INSERT INTO groups (name, kind, join_code, created_by) VALUES ($1, $2, $3, $4) RETURNING id)
         INSERT INTO group_members (group_id, user_id, role) SELECT id, $4, 'owner' FROM g RETURNING group_id AS id`,
        [req.body.name, req.body.kind, joinCode(), user_id],
      );
      reply.code(201);
      return groupView(rows[0]!.id, user_id);
    },
  );

  app.get(
    '/groups',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary: "The caller's groups, with their role in each",
        response: { 200: Type.Object({ items: Type.Array(GroupSummary) }) },
      },
    },
    async (req) => ({ items: await summaries(principalOf(req).user_id) }),
  );

  app.get(
    '/groups/:groupId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary: 'A group of the caller with its members (names and roles; e-mails to owners and admins)',
        params: GroupParams,
        response: { 200: Group, 404: problemResponse('not_found') },
      },
    },
    async (req) => groupView(req.params.groupId, principalOf(req).user_id),
  );

  app.post(
    '/groups/:groupId/invites',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary:
          'Owner or admin: invite an e-mail to join (idempotent: an open invite to it is returned, 200). Answers the same whether the e-mail has an account',
        params: GroupParams,
        body: Type.Object(
          { email: Type.String({ format: 'email', maxLength: 254 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Invite,
          201: Invite,
          400: problemResponse('validation_failed', 'invalid_json'),
          403: problemResponse('forbidden'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const { groupId } = req.params;
      if (!canManage(await roleIn(groupId, user_id)))
        throw new ApiError('forbidden', 'only owners and admins invite');
      const email = req.body.email.toLowerCase();
      const inserted = await db.query(
        `INSERT INTO group_invites (group_id, email, invited_by) VALUES ($1, $2, $3)
         ON CONFLICT (group_id, email) WHERE accepted_at IS NULL DO NOTHING`,
        [groupId, email, user_id],
      );
      const [invite] = await invites('i.group_id = $1 AND i.email = $2', [groupId, email]);
      reply.code(inserted.rowCount ? 201 : 200);
      return invite!;
    },
  );

  const invites = async (where: string, params: unknown[]): Promise<Static<typeof Invite>[]> => {
    const { rows } = await db.query<{
      id: string;
      group_id: string;
      name: string;
      kind: string;
      email: string;
      created_at: Date;
    }>(
      `SELECT i.id, i.group_id, g.name, g.kind, i.email, i.created_at FROM group_invites i JOIN groups g ON g.id = i.group_id
       WHERE i.accepted_at IS NULL AND ${where} ORDER BY i.created_at DESC, i.id`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      group: { id: r.group_id, name: r.name, kind: r.kind },
      email: r.email,
      created_at: r.created_at.toISOString(),
    }));
  };

  app.get(
    '/group-invites',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary: "Open invitations addressed to the caller's e-mail",
        response: { 200: Type.Object({ items: Type.Array(Invite) }) },
      },
    },
    async (req) => ({ items: await invites('i.email = $1', [await emailOf(principalOf(req).user_id)]) }),
  );

  app.post(
    '/group-invites/:inviteId/accept',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary: 'Accept an invitation addressed to the caller: join the group as a member',
        params: Type.Object({ inviteId: Id }),
        response: { 200: Group, 404: problemResponse('not_found') },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const { rows } = await db.query<{ group_id: string }>(
        `UPDATE group_invites SET accepted_at = now() WHERE id = $1 AND email = $2 AND accepted_at IS NULL
         RETURNING group_id`,
        [req.params.inviteId, await emailOf(user_id)],
      );
      if (!rows[0]) throw new ApiError('not_found', `no invitation ${req.params.inviteId}`);
      return join(rows[0].group_id, user_id);
    },
  );

  app.post(
    '/group-joins',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary: 'Join a group by its join code, as a member (idempotent: a member keeps their role)',
        body: Type.Object(
          { join_code: Type.String({ minLength: 1, maxLength: 64 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Group,
          400: problemResponse('validation_failed', 'invalid_json'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM groups WHERE join_code = $1', [
        req.body.join_code,
      ]);
      if (!rows[0]) throw new ApiError('not_found', 'no group has this join code');
      return join(rows[0].id, principalOf(req).user_id);
    },
  );

  /** Owners left after `userId` stops being one; a group is never left without an owner. */
  const otherOwners = async (groupId: string, userId: string) =>
    Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM group_members WHERE group_id = $1 AND role = 'owner' AND user_id <> $2`,
          [groupId, userId],
        )
      ).rows[0]!.n,
    );

  app.delete(
    '/groups/:groupId/members/:userId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary:
          'Leave (the caller’s own id) or remove a member (owners remove anyone, admins remove members). The last owner cannot leave (409): make another member owner first',
        params: MemberParams,
        response: {
          204: Type.Null(),
          403: problemResponse('forbidden'),
          404: problemResponse('not_found'),
          409: problemResponse('conflict'),
        },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const { groupId, userId } = req.params;
      const mine = await roleIn(groupId, user_id);
      const theirs = userId === user_id ? mine : await roleIn(groupId, userId);
      if (userId !== user_id && !(mine === 'owner' || (mine === 'admin' && theirs === 'member')))
        throw new ApiError('forbidden', 'owners remove anyone, admins remove members');
      if (theirs === 'owner' && (await otherOwners(groupId, userId)) === 0)
        throw new ApiError('conflict', 'the last owner cannot leave: make another member owner first');
      await db.query('DELETE FROM group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId]);
      // the member's live sessions leave the staff's boards; a staff member leaving loses sight of the others'
      await publishRevoked({ athleteId: userId });
      if (canManage(theirs)) await publishRevoked({ staffId: userId, groupId });
      reply.code(204);
      return null;
    },
  );

  app.patch(
    '/groups/:groupId/members/:userId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary: "Owner: change a member's role (the last owner cannot step down: 409)",
        params: MemberParams,
        body: Type.Object({ role: GroupRole }, { additionalProperties: false }),
        response: {
          200: Member,
          400: problemResponse('validation_failed', 'invalid_json'),
          403: problemResponse('forbidden'),
          404: problemResponse('not_found'),
          409: problemResponse('conflict'),
        },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const { groupId, userId } = req.params;
      if ((await roleIn(groupId, user_id)) !== 'owner')
        throw new ApiError('forbidden', 'only owners change roles');
      const theirs = await roleIn(groupId, userId);
      if (theirs === 'owner' && req.body.role !== 'owner' && (await otherOwners(groupId, userId)) === 0)
        throw new ApiError('conflict', 'the last owner cannot step down: make another member owner first');
      await db.query('UPDATE group_members SET role = $3 WHERE group_id = $1 AND user_id = $2', [
        groupId,
        userId,
        req.body.role,
      ]);
      if (canManage(theirs) && !canManage(req.body.role)) await publishRevoked({ staffId: userId, groupId });
      const member = (await groupView(groupId, user_id)).members.find((m) => m.user_id === userId);
      if (!member) throw new ApiError('not_found', `no member ${userId}`);
      return member;
    },
  );
  app.patch(
    '/groups/:groupId/membership',
    {
      config: { access: 'user' },
      schema: {
        tags: ['groups'],
        summary:
          "The caller's own membership: share_live_with_staff lets the group's owners and admins see the caller's live sessions on their live board (live sessions only: never activities, stats or streams). Off unless turned on; turning it off takes the caller off their boards within seconds. Idempotent",
        params: GroupParams,
        body: Type.Object({ share_live_with_staff: Type.Boolean() }, { additionalProperties: false }),
        response: {
          200: Member,
          400: problemResponse('validation_failed', 'invalid_json'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const { groupId } = req.params;
      const { rowCount } = await db.query(
        'UPDATE group_members SET share_live_with_staff = $3 WHERE group_id = $1 AND user_id = $2',
        [groupId, user_id, req.body.share_live_with_staff],
      );
      if (!rowCount) throw new ApiError('not_found', `no group ${groupId}`);
      if (!req.body.share_live_with_staff) await publishRevoked({ athleteId: user_id });
      const member = (await groupView(groupId, user_id)).members.find((m) => m.user_id === user_id);
      if (!member) throw new ApiError('not_found', `no group ${groupId}`);
      return member;
    },
  );
};
