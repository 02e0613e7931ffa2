import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { ProblemSchema } from './shared.js';

const UserInput = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    birthYear: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2030 })),
    weightKg: Type.Optional(Type.Number({ minimum: 20, maximum: 400 })),
    maxHr: Type.Optional(Type.Integer({ minimum: 100, maximum: 250 })),
  },
  { additionalProperties: false },
);
const User = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  birthYear: Type.Union([Type.Integer(), Type.Null()]),
  weightKg: Type.Union([Type.Number(), Type.Null()]),
  maxHr: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

interface UserRow {
  id: string;
  email: string;
  name: string;
  birth_year: number | null;
  weight_kg: string | number | null;
  max_hr: number | null;
  created_at: Date;
}
const toUser = (r: UserRow) => ({
  id: r.id,
  email: r.email,
  name: r.name,
  birthYear: r.birth_year,
  weightKg: r.weight_kg === null ? null : Number(r.weight_kg),
  maxHr: r.max_hr,
  createdAt: r.created_at.toISOString(),
});

export const userRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create an athlete account',
        body: UserInput,
        response: { 201: User, 409: ProblemSchema },
      },
    },
    async (req, reply) => {
      const b = req.body;
      try {
        const { rows } = await deps.pg.query<UserRow>(
          `INSERT INTO users (email, name, birth_year, weight_kg, max_hr)
           VALUES ($1, $2, $3, $4, $5) RETURNING id, email, name, birth_year, weight_kg, max_hr, created_at`,
          [b.email.toLowerCase(), b.name, b.birthYear ?? null, b.weightKg ?? null, b.maxHr ?? null],
        );
        reply.code(201);
        return toUser(rows[0]!);
      } catch (err) {
        if ((err as { code?: string }).code === '23505')
          throw new ApiError('conflict', 'email already registered');
        throw err;
      }
    },
  );

  app.get(
    '/users/:userId',
    {
      schema: {
        tags: ['users'],
        summary: 'Read an athlete account',
        params: Type.Object({ userId: Type.String({ format: 'uuid' }) }),
        response: { 200: User, 404: ProblemSchema },
      },
    },
    async (req) => {
      const { rows } = await deps.pg.query<UserRow>(
        'SELECT id, email, name, birth_year, weight_kg, max_hr, created_at FROM users WHERE id = $1',
        [req.params.userId],
      );
      if (!rows[0]) throw new ApiError('not_found', `user ${req.params.userId} not found`);
      return toUser(rows[0]);
    },
  );
};
