// Fills a stack of its own with 10,000 athletes in 100 groups and 1,000,000 activities over three years
// (issue 15): a PostgreSQL database `bench_api` (every migration applied) and a ClickHouse database
// `bench_api` with the worker's and the API's tables, so nothing of it reaches the tests' or the demo's
// data. Activities (with best efforts) go into the same `activities` table the worker writes, generated
// by ClickHouse itself (INSERT ... SELECT FROM numbers), so a million rows take seconds, not a network
// transfer. Ids are deterministic: user i is md5('bench-user-' || i) as a UUID in both databases, so the
// benchmark can address them. Then the points of the current rules are computed over all of it
// (the recompute time of issue 15).
//
//   node --import tsx bench/api/loader.ts [--users 10000] [--groups 100] [--activities 1000000]
//   env DATABASE_URL (the admin connection), CLICKHOUSE_URL, REDIS_URL as for the stack.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { hashPassword } from '../../services/api/auth/passwords.js';
import { PointsStore } from '../../services/api/points-store.js';
import { applyWorkerSchema } from '../../services/worker/clickhouse-schema.js';

export const BENCH_DB = 'bench_api';
export const BENCH_PASSWORD = 'bench passphrase of every athlete';
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';
const MIGRATIONS = fileURLToPath(new URL('../../infra/postgres/migrations', import.meta.url));

export function benchPgUrl(): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${BENCH_DB}`;
  return u.toString();
}

/** user i's id, as PostgreSQL writes it (md5 as uuid) and ClickHouse's `chUserId` rebuilds it */
export const pgUserId = (i: string) => `md5('bench-user-' || ${i})::uuid`;
const chUuid = (expr: string) => {
  const h = `lower(hex(MD5(${expr})))`;
  return `concat(substring(${h}, 1, 8), '-', substring(${h}, 9, 4), '-', substring(${h}, 13, 4), '-', substring(${h}, 17, 4), '-', substring(${h}, 21, 12))`;
};

async function timed<T>(label: string, f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  const ms = Math.round(performance.now() - t0);
  process.stdout.write(`${label}: ${ms} ms\n`);
  return { value, ms };
}

export async function load(opts: { users: number; groups: number; activities: number }) {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const pgPhase = await timed('postgres: database, migrations, users, groups', async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${BENCH_DB}`);
    await runner({
      databaseUrl: benchPgUrl(),
      dir: MIGRATIONS,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      log: () => {},
    });
    const db = new pg.Client({ connectionString: benchPgUrl() });
    await db.connect();
    // one hash for everyone: scrypt per athlete would take minutes and measure nothing
    const hash = await hashPassword(BENCH_PASSWORD);
    await db.query(
      `INSERT INTO users (id, email, name, timezone, password_hash)
       SELECT ${pgUserId('i')}, 'bench-' || i || '@example.com', 'Athlete ' || i,
              (ARRAY['Europe/Zurich', 'America/New_York', 'Asia/Tokyo', 'UTC'])[1 + i % 4], $2
       FROM generate_series(0, $1 - 1) AS i`,
      [opts.users, hash],
    );
    await db.query(
      `INSERT INTO groups (id, name, kind, join_code)
       SELECT md5('bench-group-' || g)::uuid, 'Department ' || g, 'department', md5('bench-code-' || g)
       FROM generate_series(0, $1 - 1) AS g`,
      [opts.groups],
    );
    // teams of different sizes: user i is in group (i * i) mod groups, so sizes vary around users/groups
    await db.query(
      `INSERT INTO group_members (group_id, user_id, role)
       SELECT md5('bench-group-' || ((i::bigint * i) % $2))::uuid, ${pgUserId('i')}, 'member'
       FROM generate_series(0, $1 - 1) AS i`,
      [opts.users, opts.groups],
    );
    // a goal per athlete, for GET /v1/goals
    await db
      .query(
        `INSERT INTO goals (user_id, kind, period, target)
       SELECT ${pgUserId('i')}, 'distance', 'week', 20000 FROM generate_series(0, $1 - 1) AS i`,
        [opts.users],
      )
      .catch((err: Error) => process.stdout.write(`goals not loaded: ${err.message}\n`));
    await db.end();
  });
  await admin.end();

  const ch = createClient({
    url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
    request_timeout: 600_000,
  });
  const chPhase = await timed(`clickhouse: ${opts.activities} activities with best efforts`, async () => {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${BENCH_DB}` });
    await applyWorkerSchema(ch, BENCH_DB);
    await applyWorkerSchema(ch, BENCH_DB, 'api');
    const now = Date.now();
    const span = 3 * 365 * 86_400_000;
    // sport by number: 35 % running, 25 % cycling, 25 % walking, 5 % hiking, 10 % strength
    const sport = `multiIf(number % 20 < 7, 'running', number % 20 < 12, 'cycling', number % 20 < 17, 'walking', number % 20 < 18, 'hiking', 'strength')`;
    await ch.command({
      query: `INSERT INTO ${BENCH_DB}.activities
        (activity_id, user_id, device_id, session_id, sport, version, algorithm_version, day, start_ts, end_ts,
         elapsed_s, moving_s, distance_m, raw_distance_m, avg_speed_mps, max_speed_mps, elev_gain_m, elev_loss_m,
         hr_zones_s, hr_max_source, power_avg, calories, calories_method, polyline, laps, splits_km, splits_mile,
         best_efforts, strength, sample_count, rejected_count, duplicate_count, summary)
      SELECT activity_id, user_id, 'bench-device', activity_id, sport, 1, 'bench', toDate(intDiv(start_ts, 1000)), start_ts,
        start_ts + toInt64(moving_s * 1000), moving_s, moving_s, distance_m, distance_m,
        if(moving_s > 0, distance_m / moving_s, 0), 0, elev, elev, [], '', if(sport = 'cycling', toNullable(power), NULL),
        moving_s / 6, 'met', '', '[]', '[]', '[]',
        multiIf(
          sport = 'running' AND distance_m >= 5000,
            concat('[{"kind":"distance","name":"5 km","distanceM":5000,"durationS":', toString(round(5000 / speed, 1)),
                   ',"startTs":', toString(start_ts), ',"endTs":', toString(start_ts + toInt64(5000 / speed * 1000)),
                   ',"avgSpeedMps":', toString(speed), ',"avgPowerW":null}]'),
          sport = 'cycling',
            concat('[{"kind":"duration","name":"5 s","distanceM":', toString(speed * 1.4 * 5), ',"durationS":5,"startTs":',
                   toString(start_ts), ',"endTs":', toString(start_ts + 5000), ',"avgSpeedMps":', toString(speed * 1.4),
                   ',"avgPowerW":', toString(power * 3), '},{"kind":"duration","name":"1 min","distanceM":',
                   toString(speed * 1.2 * 60), ',"durationS":60,"startTs":', toString(start_ts), ',"endTs":',
                   toString(start_ts + 60000), ',"avgSpeedMps":', toString(speed * 1.2), ',"avgPowerW":',
                   toString(power * 1.6), '}]'),
          '[]'),
        '', 600, 0, 0, '{}'
      FROM (
        SELECT number,
          ${chUuid(`concat('bench-act-', toString(number))`)} AS activity_id,
          ${chUuid(`concat('bench-user-', toString(number % ${opts.users}))`)} AS user_id,
          ${sport} AS sport,
          toInt64(${now} - (intHash64(number) % ${span})) AS start_ts,
          multiIf(sport = 'cycling', 6 + (intHash32(number) % 60) / 10, sport = 'strength', 0,
                  sport = 'running', 2.5 + (intHash32(number) % 20) / 10, 1.2 + (intHash32(number) % 6) / 10) AS speed,
          toFloat64(1200 + intHash32(number + 7) % 5400) AS moving_s,
          toFloat64(round(speed * moving_s, 1)) AS distance_m,
          toFloat64(intHash32(number + 3) % 400) AS elev,
          toFloat64(120 + intHash32(number + 11) % 200) AS power
        FROM numbers(${opts.activities})
      )`,
      clickhouse_settings: { max_insert_block_size: '200000' },
    });
  });

  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const pool = new pg.Pool({ connectionString: benchPgUrl(), max: 2 });
  const points = new PointsStore(pool, ch, BENCH_DB, redis);
  const recompute = await timed('points: recompute of every activity under the latest rules', () =>
    points.catchUp(),
  );
  await pool.end();
  redis.disconnect();
  await ch.close();
  return {
    pg_ms: pgPhase.ms,
    clickhouse_ms: chPhase.ms,
    recompute_ms: recompute.ms,
    recompute: recompute.value,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '10000' },
      groups: { type: 'string', default: '100' },
      activities: { type: 'string', default: '1000000' },
    },
  });
  const t0 = performance.now();
  const r = await load({
    users: Number(values.users),
    groups: Number(values.groups),
    activities: Number(values.activities),
  });
  process.stdout.write(`${JSON.stringify({ ...r, total_ms: Math.round(performance.now() - t0) })}\n`);
}
