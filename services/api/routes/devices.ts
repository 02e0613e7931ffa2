import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { issueDeviceToken, revokeDeviceToken } from '../../common/device-tokens.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { ProblemSchema } from './shared.js';

const DeviceIssued = Type.Object({
  deviceId: Type.String(),
  userId: Type.String(),
  name: Type.String(),
  /** shown once: only its hash is stored */
  token: Type.String(),
  mqtt: Type.Object({
    url: Type.String(),
    username: Type.String(),
    telemetryTopic: Type.String(),
    sessionTopic: Type.String(),
  }),
});

export const deviceRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/users/:userId/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Register a device and issue its MQTT token (returned once)',
        params: Type.Object({ userId: Type.String({ format: 'uuid' }) }),
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            deviceId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{3,64}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: DeviceIssued, 404: ProblemSchema, 409: ProblemSchema },
      },
    },
    async (req, reply) => {
      const { userId } = req.params;
      const user = await deps.pg.query('SELECT 1 FROM users WHERE id = $1', [userId]);
      if (user.rowCount === 0) throw new ApiError('not_found', `user ${userId} not found`);
      const deviceId = req.body.deviceId ?? `dev-${crypto.randomUUID()}`;
      let token: string;
      try {
        token = await issueDeviceToken(deps.pg, userId, deviceId, req.body.name);
      } catch (err) {
        if ((err as { code?: string }).code === '23505')
          throw new ApiError('conflict', `device ${deviceId} exists`);
        throw err;
      }
      reply.code(201);
      return {
        deviceId,
        userId,
        name: req.body.name,
        token,
        mqtt: {
          url: deps.mqttPublicUrl,
          username: deviceId,
          telemetryTopic: `v1/devices/${deviceId}/telemetry/json`,
          sessionTopic: `v1/devices/${deviceId}/session/json`,
        },
      };
    },
  );

  app.post(
    '/devices/:deviceId/revoke',
    {
      schema: {
        tags: ['devices'],
        summary: 'Revoke a device token; the gateway refuses it within seconds',
        params: Type.Object({ deviceId: Type.String() }),
        response: { 204: Type.Null(), 404: ProblemSchema },
      },
    },
    async (req, reply) => {
      const revoked = await revokeDeviceToken(deps.pg, deps.redis, req.params.deviceId);
      if (!revoked) throw new ApiError('not_found', `device ${req.params.deviceId} not found`);
      reply.code(204);
      return null;
    },
  );
};
