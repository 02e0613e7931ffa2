// The demo's coach (scripts/demo.sh): gives the load generator's athlete a password, signs the athlete in,
// registers and signs in a coach, has the athlete grant the coach access and the coach accept it — all but
// the first step through the API — and prints the coach's sign-in for the live page.
//   npx tsx scripts/demo-coach.ts <athlete user id> [api base url]
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { hashPassword } from '../services/api/auth/passwords.js';
import { parseEnv, postgresEnv } from '../services/common/config.js';

export interface DemoCoach {
  email: string;
  password: string;
  grantId: string;
}

async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function demoCoach(pool: pg.Pool, base: string, athleteId: string): Promise<DemoCoach> {
  const run = randomBytes(4).toString('hex');
  // The load generator creates its athlete in PostgreSQL without a password; the demo gives it one.
  const athletePassword = `demo athlete ${randomBytes(9).toString('base64url')}`;
  const { rows } = await pool.query<{ email: string }>(
    'UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING email',
    [athleteId, await hashPassword(athletePassword)],
  );
  if (!rows[0]) throw new Error(`no user ${athleteId}`);
  const signIn = async (email: string, password: string) =>
    (await call(base, 'POST', '/v1/auth/login', { email, password })).access_token as string;
  const athlete = await signIn(rows[0].email, athletePassword);

  const email = `coach-${run}@demo.invalid`;
  const password = `demo coach ${randomBytes(9).toString('base64url')}`;
  await call(base, 'POST', '/v1/users', { email, password, name: `Demo coach ${run}`, timezone: 'UTC' });
  const coach = await signIn(email, password);
  const grant = await call(base, 'POST', '/v1/coach-grants', { coach_email: email }, athlete);
  await call(base, 'POST', `/v1/coach-grants/${grant.id as string}/accept`, undefined, coach);
  return { email, password, grantId: grant.id as string };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [athleteId, base = 'http://127.0.0.1:3000'] = process.argv.slice(2);
  if (!athleteId) {
    process.stderr.write('usage: npx tsx scripts/demo-coach.ts <athlete user id> [api base url]\n');
    process.exit(2);
  }
  const pool = new pg.Pool({ connectionString: parseEnv(postgresEnv).DATABASE_URL, max: 1 });
  try {
    const c = await demoCoach(pool, base, athleteId);
    process.stdout.write(`coach e-mail: ${c.email}\ncoach password: ${c.password}\n`);
  } finally {
    await pool.end();
  }
}
