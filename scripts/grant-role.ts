// Grants or revokes an operator role (support, admin) of a user: the only way roles are given, never
// through the API. Runs against DATABASE_URL (default: the local stack).
//   npx tsx scripts/grant-role.ts grant <e-mail> <support|admin> --by <operator>
//   npx tsx scripts/grant-role.ts revoke <e-mail> <support|admin> --by <operator>
//   npx tsx scripts/grant-role.ts list
// Takes effect at the user's next sign-in or refresh (access tokens carry the roles for up to 15 min).
import pg from 'pg';
import { ROLES, type Role } from '../services/api/auth/access-tokens.js';
import { parseEnv, postgresEnv } from '../services/common/config.js';

const usage = 'usage: grant-role.ts grant|revoke <e-mail> <support|admin> --by <operator> | list';
const die = (msg: string): never => {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
};

const [command, email, role, flag, operator] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: parseEnv(postgresEnv).DATABASE_URL, max: 1 });
try {
  if (command === 'list') {
    const { rows } = await pool.query(
      `SELECT u.email, r.role, r.granted_by, r.granted_at FROM user_roles r JOIN users u ON u.id = r.user_id
       ORDER BY u.email, r.role`,
    );
    for (const r of rows)
      process.stdout.write(`${r.email}\t${r.role}\tby ${r.granted_by}\t${r.granted_at.toISOString()}\n`);
  } else if (command === 'grant' || command === 'revoke') {
    if (!email || !(ROLES as readonly string[]).includes(role ?? '') || flag !== '--by' || !operator)
      die(usage);
    const user = await pool.query<{ id: string }>('SELECT id FROM users WHERE lower(email) = lower($1)', [
      email,
    ]);
    const userId = user.rows[0]?.id ?? die(`no user with e-mail ${email}`);
    if (command === 'grant') {
      const r = await pool.query(
        `INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, $2, $3) ON CONFLICT (user_id, role) DO NOTHING`,
        [userId, role as Role, operator],
      );
      process.stdout.write(`${email}: ${role} ${r.rowCount ? 'granted' : 'already held'} (by ${operator})\n`);
    } else {
      const r = await pool.query('DELETE FROM user_roles WHERE user_id = $1 AND role = $2', [userId, role]);
      process.stdout.write(`${email}: ${role} ${r.rowCount ? 'revoked' : 'was not held'} (by ${operator})\n`);
    }
  } else die(usage);
} finally {
  await pool.end();
}
