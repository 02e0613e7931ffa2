import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { principalOf } from '../access.js';
import { hashPassword, PASSWORD_MAX_LENGTH, passwordProblem, verifyPassword } from '../auth/passwords.js';
import { revokeRefreshFamilies } from '../auth/refresh-tokens.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { type AuthRateLimits, authLimiter } from '../rate-limits.js';
import { canonicalTimeZone, problemResponse } from './shared.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** The profile an athlete edits; the worker computes HR zones and calories with it. */
const profileFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  timezone: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'IANA time zone name (e.g. Europe/Zurich); it decides "today" for streaks and goal periods',
    examples: ['Europe/Zurich'],
  }),
  birth_date: Nullable(Type.String({ format: 'date', description: 'YYYY-MM-DD' })),
  sex: Nullable(
    Type.Union([Type.Literal('female'), Type.Literal('male')], { description: 'for calorie formulas' }),
  ),
  weight_kg: Nullable(Type.Number({ minimum: 20, maximum: 400 })),
  max_hr: Nullable(Type.Integer({ minimum: 100, maximum: 250 })),
  resting_hr: Nullable(Type.Integer({ minimum: 20, maximum: 150 })),
  preferences: Type.Object(
    {
      units: Type.Optional(Type.Union([Type.Literal('metric'), Type.Literal('imperial')])),
      week_start: Type.Optional(
        Type.Union([Type.Literal('monday'), Type.Literal('sunday'), Type.Literal('saturday')], {
          description: 'first day of the week, for weekly goals and stats',
        }),
      ),
    },
    { additionalProperties: false },
  ),
};
const Password = Type.String({
  minLength: 1,
  maxLength: PASSWORD_MAX_LENGTH,
  description: 'at least 10 characters, not one of the most common passwords',
});

const Registration = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    password: Password,
    name: profileFields.name,
    timezone: profileFields.timezone,
    birth_date: Type.Optional(profileFields.birth_date),
    sex: Type.Optional(profileFields.sex),
    weight_kg: Type.Optional(profileFields.weight_kg),
    max_hr: Type.Optional(profileFields.max_hr),
    resting_hr: Type.Optional(profileFields.resting_hr),
    preferences: Type.Optional(profileFields.preferences),
  },
  { additionalProperties: false },
);

const ProfilePatch = Type.Object(
  {
    name: Type.Optional(profileFields.name),
    timezone: Type.Optional(profileFields.timezone),
    birth_date: Type.Optional(profileFields.birth_date),
    sex: Type.Optional(profileFields.sex),
    weight_kg: Type.Optional(profileFields.weight_kg),
    max_hr: Type.Optional(profileFields.max_hr),
    resting_hr: Type.Optional(profileFields.resting_hr),
    preferences: Type.Optional(profileFields.preferences),
    password: Type.Optional(Password),
    current_password: Type.Optional(
      Type.String({ maxLength: PASSWORD_MAX_LENGTH, description: 'required with password' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

const User = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  timezone: Type.String(),
  birth_date: Nullable(Type.String({ format: 'date' })),
  sex: Nullable(Type.String()),
  weight_kg: Nullable(Type.Number()),
  max_hr: Nullable(Type.Integer()),
  resting_hr: Nullable(Type.Integer()),
  preferences: Type.Object({ units: Type.String(), week_start: Type.String() }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

interface UserRow {
  id: string;
  email: string;
  name: string;
  timezone: string;
  birth_date: string | null;
  sex: string | null;
  weight_kg: string | number | null;
  max_hr: number | null;
  resting_hr: number | null;
  units: string;
  week_start: string;
  created_at: Date;
  updated_at: Date;
}
// birth_date as text: pg would turn a date into a local-midnight Date, shifting it by the offset.
const COLUMNS = `id, email, name, timezone, birth_date::text AS birth_date, sex, weight_kg, max_hr, resting_hr,
  units, week_start, created_at, updated_at`;

const toUser = (r: UserRow): Static<typeof User> => ({
  id: r.id,
  email: r.email,
  name: r.name,
  timezone: r.timezone,
  birth_date: r.birth_date,
  sex: r.sex,
  weight_kg: r.weight_kg === null ? null : Number(r.weight_kg),
  max_hr: r.max_hr,
  resting_hr: r.resting_hr,
  preferences: { units: r.units, week_start: r.week_start },
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

function timeZoneOf(name: string): string {
  const tz = canonicalTimeZone(name);
  if (!tz)
    throw new ApiError('validation_failed', `timezone ${JSON.stringify(name)} is not an IANA time zone name`);
  return tz;
}

function checkBirthDate(d: string | null | undefined): void {
  if (d && (d < '1900-01-01' || d > new Date().toISOString().slice(0, 10)))
    throw new ApiError('validation_failed', 'birth_date must be between 1900-01-01 and today');
}

function checkPassword(password: string, context: { email?: string; name?: string }): void {
  const why = passwordProblem(password, context);
  if (why) throw new ApiError('password_too_weak', `the password ${why}`);
}

/** Profile columns of a body, in the users table's names. */
function profileColumns(b: Partial<Static<typeof ProfilePatch>>): Record<string, unknown> {
  const cols: Record<string, unknown> = {};
  for (const k of ['name', 'birth_date', 'sex', 'weight_kg', 'max_hr', 'resting_hr'] as const)
    if (b[k] !== undefined) cols[k] = b[k];
  if (b.timezone !== undefined) cols.timezone = timeZoneOf(b.timezone);
  if (b.preferences?.units !== undefined) cols.units = b.preferences.units;
  if (b.preferences?.week_start !== undefined) cols.week_start = b.preferences.week_start;
  return cols;
}

export const userRoutes: FastifyPluginAsyncTypebox<{
  deps: ApiDeps;
  authRateLimits: AuthRateLimits;
}> = async (app, { deps, authRateLimits }) => {
  const limits = authLimiter(app, authRateLimits, 'register');
  app.post(
    '/users',
    {
      config: { access: 'public', rateLimit: limits.rateLimit },
      preHandler: limits.preHandler,
      schema: {
        tags: ['users'],
        summary: 'Create an athlete account (then sign in with POST /v1/auth/login)',
        body: Registration,
        response: {
          201: User,
          400: problemResponse('validation_failed', 'password_too_weak', 'invalid_json'),
          409: problemResponse('conflict'),
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      checkBirthDate(b.birth_date);
      checkPassword(b.password, b);
      const cols = {
        email: b.email.toLowerCase(),
        ...profileColumns(b),
        password_hash: await hashPassword(b.password),
      };
      const names = Object.keys(cols);
      try {
        const { rows } = await deps.pg.query<UserRow>(
          `INSERT INTO users (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})
           RETURNING ${COLUMNS}`,
          Object.values(cols),
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
    '/users/me',
    {
      config: { access: 'user' },
      schema: {
        tags: ['users'],
        summary: "The caller's account and athlete profile",
        response: { 200: User, 404: problemResponse('not_found') },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const { rows } = await deps.pg.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [user_id]);
      if (!rows[0]) throw new ApiError('not_found', 'the account no longer exists');
      return toUser(rows[0]);
    },
  );

  app.patch(
    '/users/me',
    {
      config: { access: 'user' },
      schema: {
        tags: ['users'],
        summary:
          'Change the profile (fields given; null clears an optional one) or the password (with current_password; ends every other sign-in)',
        body: ProfilePatch,
        response: {
          200: User,
          400: problemResponse('validation_failed', 'password_too_weak', 'invalid_json'),
          403: problemResponse('current_password_incorrect'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const b = req.body;
      checkBirthDate(b.birth_date);
      const cols = profileColumns(b);
      if (b.current_password !== undefined && b.password === undefined)
        throw new ApiError('validation_failed', 'current_password goes with password');
      if (b.password !== undefined) {
        if (b.current_password === undefined)
          throw new ApiError('validation_failed', 'changing the password needs current_password');
        const { rows } = await deps.pg.query<{ email: string; name: string; password_hash: string | null }>(
          'SELECT email, name, password_hash FROM users WHERE id = $1',
          [p.user_id],
        );
        if (!rows[0]) throw new ApiError('not_found', 'the account no longer exists');
        if (!rows[0].password_hash || !(await verifyPassword(b.current_password, rows[0].password_hash)))
          throw new ApiError('current_password_incorrect');
        checkPassword(b.password, rows[0]);
        cols.password_hash = await hashPassword(b.password);
      }
      const names = Object.keys(cols);
      const client = await deps.pg.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<UserRow>(
          `UPDATE users SET ${names.map((n, i) => `${n} = $${i + 2}`).join(', ')}${names.length ? ', ' : ''}updated_at = now()
           WHERE id = $1 RETURNING ${COLUMNS}`,
          [p.user_id, ...Object.values(cols)],
        );
        if (!rows[0]) throw new ApiError('not_found', 'the account no longer exists');
        if (b.password !== undefined)
          await revokeRefreshFamilies(client, p.user_id, { allBut: p.session_id });
        await client.query('COMMIT');
        return toUser(rows[0]);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
  );
};
