import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { issueDeviceToken, revokeDeviceToken } from '../../common/device-tokens.js';
import { principalOf } from '../access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { problemResponse } from './shared.js';

const DeviceId = Type.String({ pattern: '^[A-Za-z0-9_-]{3,64}$' });

const DeviceIssued = Type.Object({
  device_id: Type.String(),
  user_id: Type.String(),
  name: Type.String(),
  /** shown once: only its hash is stored */
  token: Type.String({ description: 'the MQTT password; shown this once, only its hash is stored' }),
  mqtt: Type.Object({
    url: Type.String(),
    username: Type.String(),
    telemetry_topic: Type.String(),
    session_topic: Type.String(),
  }),
  created_at: Type.String({ format: 'date-time' }),
});

const Device = Type.Object({
  device_id: Type.String(),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_seen_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const deviceRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/devices',
    {
      config: { access: 'user' },
      schema: {
        tags: ['devices'],
        summary:
          'Register a device of the caller and issue its MQTT credentials (the token is returned once)',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100 }), device_id: Type.Optional(DeviceId) },
          { additionalProperties: false },
        ),
        response: {
          201: DeviceIssued,
          400: problemResponse('validation_failed', 'invalid_json'),
          409: problemResponse('conflict'),
        },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const deviceId = req.body.device_id ?? `dev-${crypto.randomUUID()}`;
      let token: string;
      try {
        token = await issueDeviceToken(deps.pg, user_id, deviceId, req.body.name);
      } catch (err) {
        if ((err as { code?: string }).code === '23505')
          throw new ApiError('conflict', `device ${deviceId} exists`);
        throw err;
      }
      const { rows } = await deps.pg.query<{ created_at: Date }>(
        'SELECT created_at FROM devices WHERE id = $1',
        [deviceId],
      );
      reply.code(201);
      return {
        device_id: deviceId,
        user_id,
        name: req.body.name,
        token,
        mqtt: {
          url: deps.mqttPublicUrl,
          username: deviceId,
          telemetry_topic: `v1/devices/${deviceId}/telemetry/json`,
          session_topic: `v1/devices/${deviceId}/session/json`,
        },
        created_at: rows[0]!.created_at.toISOString(),
      };
    },
  );

  app.get(
    '/devices',
    {
      config: { access: 'user' },
      schema: {
        tags: ['devices'],
        summary: "The caller's devices, newest first, revoked ones included",
        response: { 200: Type.Object({ items: Type.Array(Device) }) },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const { rows } = await deps.pg.query<{
        id: string;
        name: string;
        created_at: Date;
        last_seen_at: Date | null;
        revoked_at: Date | null;
      }>(
        `SELECT id, name, created_at, last_seen_at, revoked_at FROM devices WHERE user_id = $1
         ORDER BY created_at DESC, id`,
        [user_id],
      );
      return {
        items: rows.map((r) => ({
          device_id: r.id,
          name: r.name,
          created_at: r.created_at.toISOString(),
          last_seen_at: r.last_seen_at?.toISOString() ?? null,
          revoked_at: r.revoked_at?.toISOString() ?? null,
        })),
      };
    },
  );

  app.delete(
    '/devices/:deviceId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['devices'],
        summary:
          'Revoke a device of the caller: the gateway refuses its token within seconds and closes its connection (idempotent)',
        params: Type.Object({ deviceId: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 204: Type.Null(), 404: problemResponse('not_found') },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const { deviceId } = req.params;
      // Someone else's device answers like one that does not exist.
      const owner = await deps.pg.query('SELECT 1 FROM devices WHERE id = $1 AND user_id = $2', [
        deviceId,
        user_id,
      ]);
      if (owner.rowCount === 0 || !(await revokeDeviceToken(deps.pg, deps.redis, deviceId)))
        throw new ApiError('not_found', `device ${deviceId} not found`);
      reply.code(204);
      return null;
    },
  );
};
